//! Progress of a copy, reported through a callback.

use std::sync::Arc;

use crate::digest::Digest;

/// One step of a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// The plan: every blob of the image, and those the destination lacks.
    Planned {
        /// Blobs the image references (configs and layers, each once).
        blobs: usize,
        /// Their total size.
        bytes: u64,
        /// Blobs to upload.
        missing_blobs: usize,
        /// Their total size.
        missing_bytes: u64,
    },
    /// A blob's upload started.
    BlobStarted {
        /// The blob.
        digest: Digest,
        /// Its size.
        size: u64,
    },
    /// More of a blob was sent.
    BlobBytes {
        /// The blob.
        digest: Digest,
        /// Bytes of this blob sent so far.
        sent: u64,
        /// Its size.
        size: u64,
    },
    /// A blob is complete in the destination.
    BlobDone {
        /// The blob.
        digest: Digest,
        /// Its size.
        size: u64,
    },
    /// A manifest was written (`tag` is set for the last one when it is tagged).
    ManifestPut {
        /// The manifest's digest.
        digest: Digest,
        /// The tag, if any.
        tag: Option<String>,
        /// Whether the destination already had it.
        existed: bool,
    },
}

/// The callback that receives progress; called from the copying task, so keep it quick.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Calls `progress` when there is one.
pub fn report(progress: Option<&ProgressFn>, event: Progress) {
    if let Some(f) = progress {
        f(&event);
    }
}
