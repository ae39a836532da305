//! `cib`: the ContainerImageBuild command-line tool, a thin layer over `cib-engine`.
//!
//! - `cib expand TEMPLATE` writes the expanded template (standard output or `-o FILE`).
//! - `cib check TEMPLATE` prints every finding (`--live`: also against the ECR registry and
//!   CodeBuild's concurrent-build quota).
//! - `cib package`, `cib bootstrap`, `cib deploy`: deploy with the AWS SDK.
//! - `cib plan TEMPLATE --stack-name NAME`: which images a deploy builds, copies or skips.
//! - `cib push TARBALL`: push an image tarball to ECR (no Docker needed).
//!
//! Exit codes: 0 success, 1 an error finding or an I/O error, 2 a usage error.

mod args;
mod aws;
mod commands;
mod deploy;
mod io;
mod live;
mod package;
mod plan;
mod policy;
mod push;
mod quota;
mod replica_regions;
mod report;
mod sarif;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Command::Expand(args) => commands::expand(args),
        Command::Check(args) => commands::check(args),
        Command::Package(args) => package::command::run(args),
        Command::Bootstrap(args) => deploy::bootstrap::run(args),
        Command::Deploy(args) => deploy::command::run(args),
        Command::Push(args) => push::run(args),
        Command::Plan(args) => plan::command::run(args),
    }
}
