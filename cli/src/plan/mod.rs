//! `cib plan`: which images a deploy will build, copy or skip, and why, before it runs.
//!
//! The template is packaged (keys only) and expanded as `cib deploy` would, each trigger's
//! properties are resolved as CloudFormation would resolve them ([`resolve`], [`context`]),
//! and the tag is computed by `cib-trigger`, the provider's own code ([`predict`]). The
//! registry and the stack's last deployed template decide the action ([`decide`]).
//! Everything but [`command`] is pure.

pub mod command;
pub mod context;
pub mod decide;
pub mod diff;
pub mod images;
pub mod predict;
pub mod render;
pub use cib_trigger::resolve;

#[cfg(test)]
mod samples;
