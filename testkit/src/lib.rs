//! Reusable test fixtures for the workspace (a dev-dependency only).
//!
//! - [`MotoServer`]: a real `moto_server` on 127.0.0.1, from the project's venv, reached
//!   through [`strict`]'s proxy.
//! - [`strict`]: the strict layer. moto accepts values AWS refuses; the proxy answers a
//!   JSON-protocol request (`X-Amz-Target`) that breaks a documented AWS limit the product
//!   depends on with AWS's HTTP 400 and exception name, and forwards everything else to moto
//!   unchanged. Covered: CodeBuild environment values (4096 characters), inline buildspec
//!   size, build and queue timeout ranges; ECR image tags (128 characters, Docker's
//!   characters), repository tags (key 128, value 256, allowed characters, 50 per
//!   repository), replication configuration (10 rules, 25 distinct destinations, 100 filters
//!   per rule, filter pattern, no destination equal to the source); SSM PutParameter (4 KB
//!   standard value, name rules). Each limit cites its source next to its constant.
//!   Projects that moto's CloudFormation creates never cross the proxy:
//!   [`strict::codebuild::check_template_projects`] holds an expanded template's projects
//!   to the same CodeBuild limits. [`strict::authorize`] enforces IAM: a request signed
//!   with a key a test declared is authorized against that role's exact policies.
//! - [`ResponseRecorder`]: a local endpoint standing in for CloudFormation's presigned
//!   response URL; it records every PUT and refuses a body over CloudFormation's 4096 bytes.
//! - [`iam`]: a template's role policies resolved as IAM holds them (for the strict layer to
//!   enforce), and the IAM inline-policy size per role (10,240 non-whitespace characters).
//! - [`image_tarball`]: image tarballs written by skopeo (`oci-archive`, `docker-archive`)
//!   from a hand-written OCI layout, offline.
//! - [`RuntimeApi`]: a Lambda Runtime API emulator, to run a `lambda_runtime` handler binary
//!   as a child process and feed it one event through its real loop.
//!
//! Every fixture binds 127.0.0.1 only and stops when dropped. A fixture that cannot start
//! panics: a missing tool is a failing test, not a skipped one.

pub mod http;
pub mod iam;
pub mod image_tarball;
pub mod moto;
pub mod oci_registry;
pub mod recorder;
pub mod runtime_api;
pub mod strict;

pub use moto::{MotoServer, venv_dir, venv_program};
pub use recorder::{RecordedPut, ResponseRecorder};
pub use runtime_api::{Outcome, RuntimeApi};
pub use strict::{Refusal, StrictProxy};
