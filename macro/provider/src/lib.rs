//! The deploy-time provider of `Custom::ContainerImageBuild`.
//!
//! It turns CloudFormation custom-resource events into CodeBuild builds (or an immediate
//! answer when the image already exists), merges the template's ECR replication rules into
//! the registry's, and answers FAILED for builds that ended without running their final
//! phase (EventBridge `CodeBuild Build State Change`). See docs/provider.md.
//!
//! Layout: [`provider`] is the provider itself (clients, settings, the answer PUT);
//! [`dispatch`] classifies each event; [`gate`] confirms every request with AWS before
//! anything acts on it; [`flows`] holds one module per kind of work (build, build state,
//! back-fill, tarball, index, replication, failure destination), which never call back into
//! the dispatcher; [`aws`] holds the thin SDK adapters. The rest (request parsing, response
//! bodies, the StartBuild request, replication merge, limits) is pure and does no I/O.

pub mod aws;
pub mod build_request;
pub mod contract_version;
pub mod dispatch;
pub mod error;
pub mod event;
pub mod filter_record;
pub mod flows;
pub mod gate;
pub mod ids;
pub mod lock;
pub mod log;
pub mod long_values;
pub mod ownership;
pub mod provider;
pub mod replication;
pub mod response;
pub mod settings;

pub use cib_trigger::{properties, tag};
pub use error::ProviderError;
pub use provider::Provider;
pub use settings::Settings;
