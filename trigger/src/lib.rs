//! The trigger resource's properties as CloudFormation resolved them, and the image tag
//! computed from them.
//!
//! Pure (no I/O): the provider computes the tag at deploy time, and `cib plan` computes the
//! same tag before a deploy from the same code, so the two can never disagree.

pub mod error;
pub mod fixtures;
pub mod index;
pub mod marker;
pub mod properties;
pub mod resolve;
pub mod stack_context;
pub mod tag;

pub use error::PropertyError;
pub use properties::{ScanGate, Source, TriggerProperties};
pub use tag::{canonical_inputs, content_hash, content_tag, image_tag, tarball_tag};

/// A repository URI (`<account>.dkr.ecr.<home region>.<suffix>/<name>`) in another region
/// of the same registry: where a replica of the repository lives.
pub fn replica_repository_uri(repository_uri: &str, home_region: &str, region: &str) -> String {
    repository_uri.replacen(&format!(".{home_region}."), &format!(".{region}."), 1)
}
