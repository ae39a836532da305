//! The one error type of the crate: every variant names the entry, blob or call it is about.

use crate::digest::Digest;

/// What went wrong while reading, pulling or pushing an image.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The tarball could not be read at all (I/O).
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A tar entry is malformed, hostile or inconsistent.
    #[error("tarball entry `{entry}`: {reason}")]
    Entry {
        /// The entry's name as written in the archive (or a description of its position).
        entry: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The tarball is neither an OCI image layout nor a `docker save` archive, or its
    /// index does not name exactly one image.
    #[error("tarball {path}: {reason}")]
    Layout {
        /// The tarball.
        path: String,
        /// What is missing or ambiguous.
        reason: String,
    },
    /// A digest string is not `sha256:` followed by 64 lowercase hex digits.
    #[error("invalid digest `{value}`: {reason}")]
    InvalidDigest {
        /// The text that was given.
        value: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A blob's content does not hash to its digest.
    #[error("blob {digest} ({origin}): content hashes to {actual}")]
    DigestMismatch {
        /// The digest the blob is named by.
        digest: Digest,
        /// Where it came from (tarball entry, registry URL).
        origin: String,
        /// The digest of what was actually read.
        actual: String,
    },
    /// A blob's content is longer or shorter than its descriptor says.
    #[error("blob {digest} ({origin}): expected {expected} bytes, got {actual}")]
    SizeMismatch {
        /// The blob.
        digest: Digest,
        /// Where it came from.
        origin: String,
        /// The size its descriptor declares.
        expected: u64,
        /// The bytes actually read (at least this many).
        actual: u64,
    },
    /// A manifest references a blob or manifest the source does not have.
    #[error("{referrer} references {digest}, which is not in {source_name}")]
    MissingBlob {
        /// The missing digest.
        digest: Digest,
        /// The manifest (or entry) that references it.
        referrer: String,
        /// The source.
        source_name: String,
    },
    /// A manifest is not valid JSON of a known shape, or has a media type we do not copy.
    #[error("manifest {name}: {reason}")]
    Manifest {
        /// The manifest: its entry or digest.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// An ECR call failed.
    #[error("ECR {operation} on repository {repository}: {message}")]
    Ecr {
        /// The API call, e.g. `UploadLayerPart`.
        operation: &'static str,
        /// The repository.
        repository: String,
        /// The service's code and message.
        message: String,
    },
    /// An HTTP exchange with a registry failed.
    #[error("registry {url}: {message}")]
    Registry {
        /// The URL requested.
        url: String,
        /// What failed: the status and body, or the transport error.
        message: String,
    },
    /// An image reference could not be parsed.
    #[error("invalid image reference `{reference}`: {reason}")]
    Reference {
        /// What was given.
        reference: String,
        /// Why it is refused.
        reason: String,
    },
    /// Options out of range (part size, parallelism).
    #[error("invalid option {name}: {reason}")]
    Option {
        /// The option.
        name: &'static str,
        /// Why.
        reason: String,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
