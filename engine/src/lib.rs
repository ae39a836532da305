//! The ContainerImageBuild expansion engine: parse a template, expand its
//! `Custom::ContainerImageBuild` resources, check the result, and emit it.
//!
//! The engine is pure: it does no I/O and knows nothing of the CLI or Lambda.

pub mod template;
