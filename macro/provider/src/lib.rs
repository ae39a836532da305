//! The deploy-time provider of `Custom::ContainerImageBuild`.
//!
//! It turns CloudFormation custom-resource events into CodeBuild builds (or an immediate
//! answer when the image already exists), merges the template's ECR replication rules into
//! the registry's, and answers FAILED for builds that ended without running their final
//! phase (EventBridge `CodeBuild Build State Change`). See docs/provider.md.
//!
//! The pure parts (tag, request parsing, response bodies, replication merge, limits) live in
//! their own modules and do no I/O; [`aws`] holds the thin SDK adapters and [`handler`] the
//! orchestration.

pub mod aws;
pub mod backfill;
pub mod build;
pub mod contract_version;
pub mod error;
pub mod event;
pub mod failure_destination;
pub mod filter_record;
pub mod gate;
pub mod handler;
pub mod ids;
pub mod index_flow;
pub mod lock;
pub mod log;
pub mod long_values;
pub mod ownership;
pub mod preflight;
pub mod replication;
pub mod replication_flow;
pub mod response;
pub mod response_url;
pub mod retry;
pub mod settings;
pub mod tarball;

pub use cib_trigger::{properties, tag};
pub use error::ProviderError;
pub use handler::Provider;
pub use settings::Settings;
