//! `cib deploy`: package, expand with the live checks, change set, execute, follow.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use cib_engine::template;
use cib_engine::{Caller, ExpandOptions, Finding, Written};
use clap::Args;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::apply::{self, Applied, Plan};
use super::support::{self, DEFAULT_STACK};
use crate::aws::cfn::TemplateSource;
use crate::aws::{self, Clients, s3};
use crate::package::command::{read_template, template_dir};
use crate::package::upload::{Destination, package};

/// CloudFormation's limit on a template passed inline; larger ones go through S3.
pub const MAX_INLINE_TEMPLATE: usize = 51_200;

/// Examples shown by `cib deploy --help`.
pub const EXAMPLES: &str = "\
Examples:
  cib deploy template.yaml --stack-name images
  cib deploy template.yaml --stack-name images --parameter-overrides Stage=prod --no-execute
  cib deploy template.yaml --stack-name images --region eu-west-1 --s3-bucket my-artifacts

Packages local build contexts, expands the template with the provider of the support stack
(run `cib bootstrap` once per account and region), checks it against the live ECR registry,
shows the change set, executes it and follows the stack until it settles. Exits 1 when
anything fails, naming the first failing resource and its reason.";

/// Arguments of `cib deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The template (YAML or JSON).
    #[arg(value_name = "TEMPLATE")]
    pub template: PathBuf,

    /// The stack to create or update.
    #[arg(long, value_name = "NAME")]
    pub stack_name: String,

    /// Parameter values as KEY=VALUE.
    #[arg(long = "parameter-overrides", value_name = "KEY=VALUE", num_args = 1.., value_parser = parse_override)]
    pub parameter_overrides: Vec<(String, String)>,

    /// The AWS region [default: the standard AWS configuration's].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Create the change set and show it, without executing it.
    #[arg(long)]
    pub no_execute: bool,

    /// Bucket for packaged contexts and large templates [default: the support stack's].
    #[arg(long, value_name = "BUCKET")]
    pub s3_bucket: Option<String>,

    /// Key prefix for uploads.
    #[arg(long, value_name = "PREFIX")]
    pub s3_prefix: Option<String>,

    /// The support stack's name.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_STACK)]
    pub support_stack: String,

    /// Seconds between two looks at the stack while it changes.
    #[arg(long, value_name = "SECONDS", default_value_t = 5, hide = true)]
    pub poll_seconds: u64,
}

/// `KEY=VALUE` as a pair.
pub fn parse_override(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got `{raw}`")),
    }
}

/// `cib deploy`: exit 0 when the stack settled successfully (or nothing changed), 1 otherwise.
pub fn run(args: &DeployArgs) -> ExitCode {
    aws::run_command(run_async(args))
}

/// What `cib deploy` and `cib plan` read a template with.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The template file.
    pub template: &'a std::path::Path,
    /// The stack.
    pub stack_name: &'a str,
    /// Parameter overrides.
    pub parameter_overrides: &'a [(String, String)],
    /// Bucket for packaged contexts.
    pub s3_bucket: Option<&'a str>,
    /// Key prefix for packaged contexts.
    pub s3_prefix: Option<&'a str>,
    /// The support stack's name.
    pub support_stack: &'a str,
    /// Upload the packaged contexts (a plan only computes their keys).
    pub upload: bool,
}

/// A template packaged and expanded for one stack.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The expanded template.
    pub expanded: Value,
    /// The bucket for uploads, when one is known.
    pub bucket: Option<String>,
}

/// Packages local contexts and expands the template with the live checks, as the deploy
/// would; findings go to standard error, and an error finding is an error.
pub async fn prepare(clients: &Clients, inputs: &Inputs<'_>) -> Result<Prepared, String> {
    let (value, _) = read_template(inputs.template)?;
    let support = support::lookup(clients, inputs.support_stack).await?;
    let bucket = inputs
        .s3_bucket
        .map(str::to_owned)
        .or(support.bucket.clone());
    let needs_bucket = !crate::package::directory_sources(&value)?.is_empty();
    let packaged = match (&bucket, needs_bucket) {
        (Some(bucket), true) => {
            let owner = clients.account_id().await?;
            let destination = Destination {
                bucket,
                owner: &owner,
                prefix: inputs.s3_prefix,
                upload: inputs.upload,
            };
            package(
                &clients.s3,
                &value,
                &template_dir(inputs.template),
                &destination,
            )
            .await?
        }
        (None, true) => {
            return Err(
                "the template has local Source directories but no bucket is known: pass --s3-bucket, or re-run `cib bootstrap`"
                    .to_owned(),
            );
        }
        (_, false) => value,
    };
    let options = ExpandOptions {
        caller: Caller::Cli,
        region: Some(clients.region.clone()),
        parameters: inputs
            .parameter_overrides
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect::<Map<String, Value>>(),
        provider_arn: support.provider_arn.clone(),
        // The body below is pretty JSON; the size checks measure that text.
        written: Written::PrettyJson,
    };
    let outcome =
        crate::live::expand(clients, &packaged, &options, Some(inputs.stack_name)).await?;
    let name = inputs.template.display().to_string();
    let expanded = match outcome.template {
        Some(expanded) if !outcome.findings.iter().any(Finding::is_error) => expanded,
        _ => {
            eprint!("{}", crate::report::to_text(&name, &outcome.findings));
            return Err("the template has errors; nothing was deployed".to_owned());
        }
    };
    if !outcome.findings.is_empty() {
        eprint!("{}", crate::report::to_text(&name, &outcome.findings));
    }
    if let Some((path, tag)) = template::unknown_tags(&expanded).first() {
        return Err(format!(
            "{path} has the YAML tag `{tag}`, which CloudFormation does not read; run the tool \
             that reads `{tag}` first, then deploy its output"
        ));
    }
    Ok(Prepared { expanded, bucket })
}

async fn run_async(args: &DeployArgs) -> Result<(), String> {
    let clients = Clients::load(args.region.as_deref()).await?;
    let inputs = Inputs {
        template: &args.template,
        stack_name: &args.stack_name,
        parameter_overrides: &args.parameter_overrides,
        s3_bucket: args.s3_bucket.as_deref(),
        s3_prefix: args.s3_prefix.as_deref(),
        support_stack: &args.support_stack,
        upload: true,
    };
    let Prepared { expanded, bucket } = prepare(&clients, &inputs).await?;
    let overrides: BTreeMap<String, String> = args.parameter_overrides.iter().cloned().collect();
    // The images the deploy will build, before anything changes; a plan that cannot be
    // made does not stop the deploy.
    if !crate::plan::images::trigger_ids(&expanded).is_empty() {
        match crate::plan::command::make(&clients, &expanded, &args.stack_name, &overrides).await {
            Ok(plan) => print!("{}", crate::plan::render::text(&plan)),
            Err(e) => eprintln!("warning: no image plan: {e}"),
        }
    }
    let body = template::to_json(&expanded);
    let source =
        template_source(&clients, bucket.as_deref(), args.s3_prefix.as_deref(), body).await?;
    let parameters = parameters(&clients, args, &expanded).await?;
    let resource_count = expanded
        .get("Resources")
        .and_then(Value::as_object)
        .map_or(0, Map::len);
    let plan = Plan {
        stack_name: &args.stack_name,
        template: &source,
        parameters: &parameters,
        resource_count,
        execute: !args.no_execute,
        poll: Duration::from_secs(args.poll_seconds),
    };
    match apply::apply(&clients, &plan).await? {
        Applied::NoChanges => println!("no changes: stack {} is up to date", args.stack_name),
        Applied::Created { change_set } => println!(
            "change set {change_set} created and not executed; run it with:\n  aws cloudformation execute-change-set --stack-name {} --change-set-name {change_set}",
            args.stack_name
        ),
        Applied::Done => println!("stack {} deployed", args.stack_name),
    }
    Ok(())
}

/// The template inline, or uploaded to S3 when over CloudFormation's inline limit.
async fn template_source(
    clients: &Clients,
    bucket: Option<&str>,
    prefix: Option<&str>,
    body: String,
) -> Result<TemplateSource, String> {
    if body.len() <= MAX_INLINE_TEMPLATE {
        return Ok(TemplateSource::Body(body));
    }
    let bucket = bucket.ok_or_else(|| {
        format!(
            "the expanded template is {} bytes, over CloudFormation's {MAX_INLINE_TEMPLATE}: pass --s3-bucket to upload it",
            body.len()
        )
    })?;
    let name = format!(
        "templates/{}.json",
        hex::encode(Sha256::digest(body.as_bytes()))
    );
    let key = match prefix.map(|p| p.trim_matches('/')) {
        Some(p) if !p.is_empty() => format!("{p}/{name}"),
        _ => name,
    };
    let owner = clients.account_id().await?;
    s3::upload_if_absent(
        &clients.s3,
        bucket,
        &owner,
        &key,
        body.as_bytes(),
        |_, _| {},
    )
    .await?;
    Ok(TemplateSource::Url(template_url(
        bucket,
        &key,
        &clients.region,
    )))
}

/// The S3 URL CloudFormation reads a template from.
pub fn template_url(bucket: &str, key: &str, region: &str) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://{bucket}.s3.{region}.{suffix}/{key}")
}

/// The overrides, plus the existing stack's values of the parameters not overridden (an
/// update keeps what the last deploy set).
async fn parameters(
    clients: &Clients,
    args: &DeployArgs,
    expanded: &Value,
) -> Result<BTreeMap<String, String>, String> {
    let mut parameters: BTreeMap<String, String> =
        args.parameter_overrides.iter().cloned().collect();
    let declared: Vec<String> = expanded
        .get("Parameters")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    if let Some(stack) = crate::aws::cfn::stack(&clients.cfn, &args.stack_name).await? {
        for key in declared {
            if let Some(previous) = stack.parameters.get(&key)
                && !parameters.contains_key(&key)
                && previous != "****"
            {
                parameters.insert(key, previous.clone());
            }
        }
    }
    Ok(parameters)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_urls_follow_the_partition() {
        assert_eq!(
            template_url("b", "t/x.json", "eu-west-1"),
            "https://b.s3.eu-west-1.amazonaws.com/t/x.json"
        );
        assert!(template_url("b", "k", "cn-north-1").ends_with(".amazonaws.com.cn/k"));
    }
}
