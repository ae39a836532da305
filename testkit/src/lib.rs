//! Reusable test fixtures for the workspace (a dev-dependency only).
//!
//! - [`MotoServer`]: a real `moto_server` on 127.0.0.1, from the project's venv.
//! - [`ResponseRecorder`]: a local endpoint standing in for CloudFormation's presigned
//!   response URL; it records every PUT.
//! - [`RuntimeApi`]: a Lambda Runtime API emulator, to run a `lambda_runtime` handler binary
//!   as a child process and feed it one event through its real loop.
//!
//! Every fixture binds 127.0.0.1 only and stops when dropped. A fixture that cannot start
//! panics: a missing tool is a failing test, not a skipped one.

pub mod http;
pub mod moto;
pub mod recorder;
pub mod runtime_api;

pub use moto::{MotoServer, venv_dir, venv_program};
pub use recorder::{RecordedPut, ResponseRecorder};
pub use runtime_api::{Outcome, RuntimeApi};
