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
//!
//! Back-filling a replica region (same digest, same tag, nothing rebuilt):
//!
//! ```text
//! let home = EcrRepository::new(ecr_client_in_home_region, "cib/api-...");
//! let replica = EcrRepository::new(ecr_client_in_replica_region, "cib/api-...");
//! let report = copy_image(&home, &replica, "<tag>", &CopyOptions::default()).await?;
//! // report.digest is the home region's digest; Tag::SameAsSource wrote "<tag>".
//! ```
//!
//! Copying a pinned image from a public registry (anonymous token flow):
//!
//! ```text
//! let reference = ImageReference::parse("docker.io/moby/buildkit:v0.16.0@sha256:...")?;
//! let source = RegistryClient::new(&reference, None)?;
//! let destination = EcrRepository::new(ecr_client, "cib-tools/buildkit");
//! let options = CopyOptions { tag: Tag::Named("v0.16.0".into()), ..CopyOptions::default() };
//! let report = copy_image(&source, &destination, &reference.reference(), &options).await?;
//! // report.digest == the pinned digest (checked); every platform of an index is copied.
//! ```
//!
//! Every call the ECR side makes: `BatchCheckLayerAvailability`, `InitiateLayerUpload`,
//! `UploadLayerPart`, `CompleteLayerUpload`, `PutImage` (destination), `BatchGetImage`,
//! `GetDownloadUrlForLayer` (source), `DescribeRepositories` ([`EcrRepository::uri`]).

pub mod archive;
pub mod copy;
pub mod digest;
pub mod distribution;
pub mod ecr;
pub mod error;
pub mod http;
pub mod index;
pub mod manifest;
pub mod platform;
pub mod progress;
pub mod stream;
pub mod tar;

pub use archive::Tarball;
pub use copy::{CopyOptions, CopyReport, Destination, Source, Tag, copy_image, push_tarball};
pub use digest::Digest;
pub use distribution::{Credentials, ImageReference, RegistryClient};
pub use ecr::EcrRepository;
pub use error::Error;
pub use index::image_index;
pub use manifest::{Descriptor, Manifest, MediaType};
pub use platform::{image_platforms, platform_matches};
pub use progress::{Progress, ProgressFn};
