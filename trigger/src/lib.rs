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
