//! Moves container images between places, with one job: copy every blob and manifest of an
//! image from a [`Source`] to a [`Destination`], blobs first, manifests after, the tag last.
//!
//! Sources: an image tarball ([`archive::Tarball`]: an OCI image layout in a tar, or a
//! `docker save` archive), an ECR repository ([`ecr::EcrRepository`]) and any registry that
//! speaks the OCI distribution API ([`distribution::RegistryClient`], read only).
//! Destination: an ECR repository.
//!
//! Every blob is streamed (never held whole in memory) and its digest is verified while it
//! streams; a blob that does not match stops the copy before any manifest is written, so
//! nothing is tagged.
//!
//! The entry points:
//! - [`push_tarball`]: an image tarball into an ECR repository (`cib push`, deploy-time pushes);
//! - [`copy_image`]: any source to any destination by reference (back-filling a replica
//!   region from the home region, `cib bootstrap` copying a pinned builder image).

pub mod archive;
pub mod copy;
pub mod digest;
pub mod distribution;
pub mod ecr;
pub mod error;
pub mod http;
pub mod manifest;
pub mod progress;
pub mod stream;
pub mod tar;

pub use archive::Tarball;
pub use copy::{CopyOptions, CopyReport, Destination, Source, copy_image, push_tarball};
pub use digest::Digest;
pub use distribution::{Credentials, ImageReference, RegistryClient};
pub use ecr::EcrRepository;
pub use error::Error;
pub use manifest::{Descriptor, Manifest, MediaType};
pub use progress::{Progress, ProgressFn};
