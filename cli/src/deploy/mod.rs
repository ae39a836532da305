//! `cib bootstrap` and `cib deploy`: the support stack, and a template's stack from change
//! set to settled, with a live progress display.

pub mod apply;
pub mod bootstrap;
pub mod builder;
pub mod command;
pub mod progress;
pub mod summary;
pub mod support;
