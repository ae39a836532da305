//! The one error of this crate: a property that is missing or has the wrong shape.

/// A resource property is missing or has the wrong shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("property {path}: {message}")]
pub struct PropertyError {
    /// The property path, e.g. `BuildArgs.STAGE`.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl PropertyError {
    /// An error at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        PropertyError {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The same error with `parent.` put before its path.
    pub fn under(self, parent: &str) -> Self {
        PropertyError {
            path: format!("{parent}.{}", self.path),
            message: self.message,
        }
    }
}
