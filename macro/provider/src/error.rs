//! The provider's errors, each naming what failed.

/// Everything that can go wrong while handling one event.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The event is not one the provider understands.
    #[error("unrecognised event: {0}")]
    BadEvent(String),
    /// A resource property is missing or has the wrong shape.
    #[error("property {path}: {message}")]
    BadProperty {
        /// The property path, e.g. `BuildArgs.STAGE`.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// An AWS call failed.
    #[error("{operation} failed: {message}")]
    Aws {
        /// The API operation, e.g. `CodeBuild StartBuild`.
        operation: &'static str,
        /// The service's error code and message.
        message: String,
    },
    /// The replication configuration would break an ECR limit; nothing was written.
    #[error("ECR replication configuration not changed: {0}")]
    ReplicationLimit(String),
    /// The replication configuration could not be made to stick.
    #[error("ECR replication configuration: {0}")]
    ReplicationConflict(String),
    /// The replication lock could not be had in time.
    #[error("ECR replication configuration not changed: {0}")]
    LockTimeout(String),
    /// The support stack's state table holds something unreadable.
    #[error("state table item {key}: {message}")]
    BadRecord {
        /// The item's key.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// The answer could not be delivered to CloudFormation.
    #[error("sending the response to CloudFormation failed: {0}")]
    Response(String),
}

impl ProviderError {
    /// A property error at `path`.
    pub fn property(path: impl Into<String>, message: impl Into<String>) -> Self {
        ProviderError::BadProperty {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl From<cib_trigger::PropertyError> for ProviderError {
    fn from(e: cib_trigger::PropertyError) -> Self {
        ProviderError::BadProperty {
            path: e.path,
            message: e.message,
        }
    }
}
