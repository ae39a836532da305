//! The flows: one module per kind of work the provider does once the gate has let a request
//! through. Each is an `impl Provider` block the dispatcher calls; none calls back into the
//! dispatcher.
//!
//! - [`build`]: an image trigger (existing image, back-fill, or StartBuild), with
//!   [`preflight`] (what is checked and stored before StartBuild) and [`retry`] (a full
//!   build queue);
//! - [`build_state`]: a build that ended without its final phase answering;
//! - [`fixed_tag`]: a fixed `ImageTag` moved back to an image built before;
//! - [`backfill`]: copying an image into replica regions that lack it;
//! - [`tarball`]: pushing an `ImageTarball` image without a build;
//! - [`index`]: a multi-platform image's OCI index;
//! - [`replication`]: the template's registry replication rules;
//! - [`failure_destination`]: answering for a request the provider gave up on.

pub mod backfill;
pub mod build;
pub mod build_state;
pub mod failure_destination;
pub mod fixed_tag;
pub mod index;
pub mod preflight;
pub mod replication;
pub mod retry;
pub mod tarball;
