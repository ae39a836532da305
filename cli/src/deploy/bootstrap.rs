//! `cib bootstrap`: deploy or update the support stack (macro, provider, EventBridge rule,
//! roles) once per account and region.
//!
//! The artifact bucket is made by `cib bootstrap` itself, not by the support stack: the
//! stack's Lambda functions need their zips in a bucket before the stack can be created,
//! so a bucket inside the stack would take two deploys. `--s3-bucket` names one; by default
//! it is `cib-artifacts-<account>-<region>`, created when missing. The stack's
//! `ArtifactBucket` output tells `cib deploy` where to package. The same goes for the
//! builder image, copied into the account's ECR before the stack names it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use sha2::{Digest, Sha256};

use super::apply::{self, Applied, Plan};
use super::support::DEFAULT_STACK;
use crate::aws::cfn::{self, TemplateSource};
use crate::aws::{self, Clients, s3};

/// The support stack's template, as shipped with this `cib`.
pub const SUPPORT_TEMPLATE: &str = include_str!("../../../deploy/support-stack.yaml");

/// The Lambda zips the support stack needs: (parameter, directory under `--artifacts`).
const ARTIFACTS: [(&str, &str); 2] = [
    ("TransformKey", "bootstrap"),
    ("ProviderKey", "cib-provider"),
];

/// Examples shown by `cib bootstrap --help`.
pub const EXAMPLES: &str = "\
Examples:
  scripts/build-lambdas.sh && cib bootstrap --region eu-west-1
  cib bootstrap --s3-bucket my-artifacts --artifacts ./lambda
  cib bootstrap --builder-image 123456789012.dkr.ecr.eu-west-1.amazonaws.com/tools/buildkit@sha256:...

Uploads the two Lambda zips (cargo lambda build output: <artifacts>/bootstrap/bootstrap.zip and
<artifacts>/cib-provider/bootstrap.zip) under content-named keys, then creates or updates the
support stack and prints its outputs. The pinned BuildKit image is copied into the account's
ECR (cib-tools/buildkit) first, so no build pulls from Docker Hub. Running it again with
nothing changed changes nothing.";

/// Arguments of `cib bootstrap`.
#[derive(Debug, Args)]
pub struct BootstrapArgs {
    /// The AWS region [default: the standard AWS configuration's].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// The artifact bucket [default: cib-artifacts-<account>-<region>, created when missing].
    #[arg(long, value_name = "BUCKET")]
    pub s3_bucket: Option<String>,

    /// Where the Lambda zips are [default: $CARGO_TARGET_DIR/lambda, else target/lambda].
    #[arg(long, value_name = "DIR")]
    pub artifacts: Option<PathBuf>,

    /// The BuildKit image builds start their builder from, pinned by digest (the support
    /// stack's `BuilderImage` parameter), used as it is: nothing is copied.
    #[arg(long, value_name = "URI", conflicts_with = "builder_source")]
    pub builder_image: Option<String>,

    /// The BuildKit image to copy into this account's ECR (`cib-tools/buildkit`) for the
    /// builds, pinned by digest; copied once, then found there.
    #[arg(long, value_name = "IMAGE", default_value = cib_contract::BUILDER_SOURCE_IMAGE)]
    pub builder_source: String,

    /// The support stack's name.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_STACK)]
    pub stack_name: String,

    /// Deploy this template instead of the built-in support stack (tests and development).
    #[arg(long, value_name = "FILE", hide = true)]
    pub template: Option<PathBuf>,

    /// Seconds between two looks at the stack while it changes.
    #[arg(long, value_name = "SECONDS", default_value_t = 5, hide = true)]
    pub poll_seconds: u64,
}

/// `cib bootstrap`: exit 0 when the support stack is up to date, 1 otherwise.
pub fn run(args: &BootstrapArgs) -> ExitCode {
    aws::run_command(run_async(args))
}

async fn run_async(args: &BootstrapArgs) -> Result<(), String> {
    let clients = Clients::load(args.region.as_deref()).await?;
    let template = match &args.template {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        None => SUPPORT_TEMPLATE.to_owned(),
    };
    let account = clients.account_id().await?;
    let bucket = match &args.s3_bucket {
        Some(bucket) => bucket.clone(),
        None => format!("cib-artifacts-{account}-{}", clients.region),
    };
    // Bucket names are global: a bucket of this name that another account created first is
    // refused here (ExpectedBucketOwner), never written to.
    if !s3::bucket_exists(&clients.s3, &bucket, &account).await? {
        s3::create_bucket(&clients.s3, &bucket, &clients.region).await?;
        eprintln!("created bucket {bucket}");
    }
    let artifacts = args.artifacts.clone().unwrap_or_else(default_artifacts);
    let mut parameters = BTreeMap::from([("ArtifactBucket".to_owned(), bucket.clone())]);
    let builder_image = match &args.builder_image {
        Some(image) => image.clone(),
        None => super::builder::ensure_builder_image(&clients.ecr, &args.builder_source).await?,
    };
    parameters.insert("BuilderImage".to_owned(), builder_image);
    for (parameter, dir) in ARTIFACTS {
        let path = artifacts.join(dir).join("bootstrap.zip");
        let key = upload_artifact(&clients, &bucket, &account, &path).await?;
        parameters.insert(parameter.to_owned(), key);
    }
    let stack = apply::existing_stack(&clients, &args.stack_name).await?;
    if let Some(stack) = &stack
        && is_unchanged(&clients, &args.stack_name, stack, &template, &parameters).await?
    {
        println!(
            "no changes: support stack {} is up to date",
            args.stack_name
        );
        print_outputs(&stack.outputs);
        return Ok(());
    }
    let source = TemplateSource::Body(template.clone());
    let plan = Plan {
        stack_name: &args.stack_name,
        template: &source,
        parameters: &parameters,
        resource_count: count_resources(&template),
        execute: true,
        poll: Duration::from_secs(args.poll_seconds),
    };
    match apply::apply(&clients, &plan).await? {
        Applied::NoChanges => println!(
            "no changes: support stack {} is up to date",
            args.stack_name
        ),
        Applied::Created { .. } | Applied::Done => {}
    }
    let outputs = cfn::stack(&clients.cfn, &args.stack_name)
        .await?
        .map(|s| s.outputs)
        .unwrap_or_default();
    print_outputs(&outputs);
    Ok(())
}

/// `$CARGO_TARGET_DIR/lambda`, where scripts/build-lambdas.sh leaves the zips.
fn default_artifacts() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("lambda")
}

/// Uploads one Lambda zip under `cib/lambda/<sha256>.zip` unless it is there; returns the key.
async fn upload_artifact(
    clients: &Clients,
    bucket: &str,
    owner: &str,
    path: &Path,
) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| {
        format!(
            "cannot read the Lambda artifact {}: {e} (build it with scripts/build-lambdas.sh, or pass --artifacts DIR)",
            path.display()
        )
    })?;
    let key = format!("cib/lambda/{}.zip", hex::encode(Sha256::digest(&bytes)));
    if s3::upload_if_absent(&clients.s3, bucket, owner, &key, &bytes, |_, _| {}).await? {
        eprintln!("uploaded {} to s3://{bucket}/{key}", path.display());
    }
    Ok(key)
}

/// True when the stack already runs this exact template with these parameter values.
async fn is_unchanged(
    clients: &Clients,
    name: &str,
    stack: &cfn::StackInfo,
    template: &str,
    parameters: &BTreeMap<String, String>,
) -> Result<bool, String> {
    let same_parameters = parameters
        .iter()
        .all(|(key, value)| stack.parameters.get(key) == Some(value));
    if !same_parameters || !stack.status.ends_with("_COMPLETE") || stack.status.contains("ROLLBACK")
    {
        return Ok(false);
    }
    Ok(cfn::template_body(&clients.cfn, name).await?.trim_end() == template.trim_end())
}

/// The number of resources in a template (for the progress display).
pub fn count_resources(template: &str) -> usize {
    cib_engine::template::parse(template.as_bytes())
        .ok()
        .and_then(|(value, _)| value.get("Resources")?.as_object().map(|r| r.len()))
        .unwrap_or_default()
}

fn print_outputs(outputs: &BTreeMap<String, String>) {
    for (key, value) in outputs {
        println!("{key}: {value}");
    }
}
