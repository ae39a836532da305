//! `cib`: the ContainerImageBuild command-line tool, a thin layer over `cib-engine`.
//!
//! - `cib expand TEMPLATE` writes the expanded template (standard output or `-o FILE`).
//! - `cib check TEMPLATE` prints every finding.
//!
//! Exit codes: 0 success, 1 an error finding or an I/O error, 2 a usage error.

mod args;
mod commands;
mod io;
mod report;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Command::Expand(args) => commands::expand(args),
        Command::Check(args) => commands::check(args),
    }
}
