//! The `cib package` command: flags, reading the template, writing the packaged one.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cib_engine::template::{self, Format};
use clap::Args;
use serde_json::Value;

use super::upload::{Destination, package};
use crate::aws::{self, Clients};
use crate::io;

/// Examples shown by `cib package --help`.
pub const EXAMPLES: &str = "\
Examples:
  cib package template.yaml --s3-bucket my-artifacts -o packaged.yaml
  cib package template.yaml --s3-bucket my-artifacts --s3-prefix contexts/ --region eu-west-1

Each Source: {Directory: ./path} (relative to the template) is zipped deterministically
(.dockerignore applies, the Dockerfile is always kept), named by its SHA-256 and uploaded
only when that key is not in the bucket yet. Each Source: {ImageTarball: ./web.tar} is
checked as an image tarball (OCI layout or docker save), uploaded as <sha256>.tar the same
way, and its Platform filled in from the image when the template states none. Credentials, region and endpoint come from the
standard AWS configuration (profiles, AWS_* variables, AWS_ENDPOINT_URL).";

/// Arguments of `cib package`.
#[derive(Debug, Args)]
pub struct PackageArgs {
    /// The template (YAML or JSON).
    #[arg(value_name = "TEMPLATE")]
    pub template: PathBuf,

    /// The bucket the build contexts are uploaded to.
    #[arg(long, value_name = "BUCKET")]
    pub s3_bucket: String,

    /// A key prefix for the uploaded contexts.
    #[arg(long, value_name = "PREFIX")]
    pub s3_prefix: Option<String>,

    /// Write the packaged template to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// The AWS region [default: the standard AWS configuration's].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

/// `cib package`: exit 0 with the packaged template written, 1 on any error.
pub fn run(args: &PackageArgs) -> ExitCode {
    match run_inner(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run_inner(args: &PackageArgs) -> Result<(), String> {
    let bytes = io::read_input(&args.template).map_err(|e| e.to_string())?;
    let (value, format, source) = template::parse_with_source(&bytes)
        .map_err(|e| format!("{}: {e}", args.template.display()))?;
    let runtime = aws::runtime()?;
    let packaged = runtime.block_on(async {
        let clients = Clients::load(args.region.as_deref()).await?;
        let owner = clients.account_id().await?;
        let destination = Destination {
            bucket: &args.s3_bucket,
            owner: &owner,
            prefix: args.s3_prefix.as_deref(),
            upload: true,
        };
        package(
            &clients.s3,
            &value,
            &template_dir(&args.template),
            &destination,
        )
        .await
    })?;
    let text = match format {
        Format::Yaml => template::to_yaml_with_source(&packaged, &source),
        Format::Json => template::to_json(&packaged),
    };
    match &args.output {
        Some(path) if !io::is_stdio(path) => io::write_atomic(path, &text),
        _ => io::write_stdout(&text),
    }
    .map_err(|e| e.to_string())
}

/// Reads and parses a template file; a syntax error names its line and column.
pub fn read_template(path: &Path) -> Result<(Value, Format), String> {
    let bytes = io::read_input(path).map_err(|e| e.to_string())?;
    template::parse(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// The directory relative `Source.Directory` paths start from: the template's own.
pub fn template_dir(template: &Path) -> PathBuf {
    match template.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}
