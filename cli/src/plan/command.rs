//! `cib plan`: reads the stack, its last deployed template and the registry, and says for
//! each image whether the deploy skips, copies or builds it, and why.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::Value;

use super::context::{Deployed, Place, context};
use super::decide::{Action, Decision, Registry, decide};
use super::images::{self, Image, Presence};
use super::predict::Prediction;
use super::render::{self, Plan, Planned};
use super::resolve::{Context, Resolver, placeholder};
use crate::aws::{self, Clients, cfn, ecr};
use crate::deploy::command::{Inputs, prepare};
use crate::deploy::support::DEFAULT_STACK;

/// Examples shown by `cib plan --help`.
pub const EXAMPLES: &str = "\
Examples:
  cib plan template.yaml --stack-name images
  cib plan template.yaml --stack-name images --parameter-overrides Version=1.3 --format json
  cib plan template.yaml --stack-name images --detailed-exitcode || echo \"images to build\"

For each image: skip (its tag is in the repository and every replica region), copy (in the
home region only: copied, not built), build (with the input that changed since the last
deploy), or unknown (an input CloudFormation knows only during the deploy). Local build
contexts are zipped to compute their keys but not uploaded. Nothing is changed.
Exit codes: 0 success; with --detailed-exitcode, 0 when nothing builds, 2 when an image
builds or may build (unknown), 1 on error.";

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// One line per image, then totals.
    Text,
    /// One JSON document.
    Json,
}

/// Arguments of `cib plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The template (YAML or JSON).
    #[arg(value_name = "TEMPLATE")]
    pub template: PathBuf,

    /// The stack the template would be deployed to.
    #[arg(long, value_name = "NAME")]
    pub stack_name: String,

    /// Parameter values as KEY=VALUE (others keep the stack's current values).
    #[arg(long = "parameter-overrides", value_name = "KEY=VALUE", num_args = 1.., value_parser = crate::deploy::command::parse_override)]
    pub parameter_overrides: Vec<(String, String)>,

    /// The AWS region [default: the standard AWS configuration's].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,

    /// Exit 2 when an image builds or may build, 0 when none does, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// Bucket the deploy would package local contexts to [default: the support stack's].
    #[arg(long, value_name = "BUCKET")]
    pub s3_bucket: Option<String>,

    /// Key prefix for packaged contexts.
    #[arg(long, value_name = "PREFIX")]
    pub s3_prefix: Option<String>,

    /// The support stack's name.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_STACK)]
    pub support_stack: String,
}

/// `cib plan`.
pub fn run(args: &PlanArgs) -> ExitCode {
    let outcome = aws::runtime().and_then(|rt| rt.block_on(run_async(args)));
    match outcome {
        Ok(plan) => {
            match args.format {
                PlanFormat::Text => print!("{}", render::text(&plan)),
                PlanFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&render::json(&plan)).unwrap_or_default()
                ),
            }
            if args.detailed_exitcode && plan.builds() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run_async(args: &PlanArgs) -> Result<Plan, String> {
    let clients = Clients::load(args.region.as_deref()).await?;
    let inputs = Inputs {
        template: &args.template,
        stack_name: &args.stack_name,
        parameter_overrides: &args.parameter_overrides,
        s3_bucket: args.s3_bucket.as_deref(),
        s3_prefix: args.s3_prefix.as_deref(),
        support_stack: &args.support_stack,
        upload: false,
    };
    let prepared = prepare(&clients, &inputs).await?;
    let overrides: BTreeMap<String, String> = args.parameter_overrides.iter().cloned().collect();
    make(&clients, &prepared.expanded, &args.stack_name, &overrides).await
}

/// The plan of deploying `expanded` (an expanded template) to `stack_name`.
pub async fn make(
    clients: &Clients,
    expanded: &Value,
    stack_name: &str,
    overrides: &BTreeMap<String, String>,
) -> Result<Plan, String> {
    // A stack only reviewed (a change set never executed) has deployed nothing.
    let stack = cfn::stack(&clients.cfn, stack_name)
        .await?
        .filter(|s| s.status != "REVIEW_IN_PROGRESS");
    let account = match stack
        .as_ref()
        .and_then(|s| s.stack_id.split(':').nth(4))
        .filter(|a| !a.is_empty())
    {
        Some(a) => a.to_owned(),
        None => clients.account_id().await?,
    };
    let (deployed, last_template) = match &stack {
        Some(s) => {
            let physical_ids = cfn::all_resources(&clients.cfn, stack_name)
                .await?
                .into_iter()
                .filter(|r| !r.physical_id.is_empty())
                .map(|r| (r.logical_id, r.physical_id))
                .collect();
            let body = cfn::processed_template(&clients.cfn, stack_name).await?;
            let (last, _) = cib_engine::template::parse(body.as_bytes()).map_err(|e| {
                format!("the deployed template of {stack_name} cannot be read: {e}")
            })?;
            let deployed = Deployed {
                stack_id: s.stack_id.clone(),
                parameters: s.parameters.clone(),
                physical_ids,
            };
            (Some(deployed), Some(last))
        }
        None => (None, None),
    };
    let place = Place {
        stack_name,
        region: &clients.region,
        account: &account,
    };
    let ctx = context(expanded, overrides, &place, deployed.as_ref());
    let now = images::resolve(expanded, &ctx);
    let last_ctx = last_template
        .as_ref()
        .map(|t| context(t, &BTreeMap::new(), &place, deployed.as_ref()));
    let before: Vec<Image> = match (&last_template, &last_ctx) {
        (Some(t), Some(c)) => images::resolve(t, c),
        _ => Vec::new(),
    };
    let mut planned = Vec::new();
    for image in now.iter().filter(|i| i.presence != Presence::Absent) {
        let last = before.iter().find(|b| b.logical_id == image.logical_id);
        let decision = match registry(clients, image).await {
            Ok(registry) => decide(image, last, registry.as_ref()),
            Err(e) => Decision {
                logical_id: image.logical_id.clone(),
                action: Action::Unknown,
                reason: e,
                tag: None,
                paths: Vec::new(),
            },
        };
        let last_build_seconds = match (last, &last_template, &last_ctx, &deployed) {
            (Some(last), Some(t), Some(c), Some(d)) => {
                last_build_seconds(clients, &d.stack_id, last, t, c).await
            }
            _ => None,
        };
        planned.push(Planned {
            decision,
            compute_type: compute_type(expanded, &ctx, image),
            last_build_seconds,
        });
    }
    Ok(Plan {
        stack_name: stack_name.to_owned(),
        stack_exists: stack.is_some(),
        images: planned,
    })
}

/// Where the image's predicted tag is: at home, then in each replica region.
async fn registry(clients: &Clients, image: &Image) -> Result<Option<Registry>, String> {
    let Prediction::Tag {
        tag,
        replica_regions,
    } = &image.prediction
    else {
        return Ok(None);
    };
    let Some(repository) = image.known("RepositoryName").and_then(Value::as_str) else {
        return Ok(Some(Registry::NewRepository));
    };
    let home = ecr::image_lookup(&clients.ecr, repository, tag)
        .await
        .map_err(|e| format!("{e} in {}", clients.region))?;
    let mut replicas = Vec::new();
    if matches!(home, super::decide::Lookup::Found(_)) {
        for region in replica_regions {
            let lookup = ecr::image_lookup(&clients.ecr_in(region), repository, tag)
                .await
                .map_err(|e| format!("{e} in {region}"))?;
            replicas.push((region.clone(), lookup));
        }
    }
    Ok(Some(Registry::Looked { home, replicas }))
}

/// The compute type of the project the image builds on (`ProjectName: !Ref <project>`).
fn compute_type(template: &Value, ctx: &Context, image: &Image) -> Option<String> {
    project_property(
        template,
        ctx,
        &image.logical_id,
        &["Environment", "ComputeType"],
    )
}

/// How long the image's previous build ran: the provider records the build it started in a
/// tag of the repository (`cib_trigger::marker`), and CodeBuild keeps its times. `None` when
/// there is no such build, or it cannot be read (the plan does not fail for it).
async fn last_build_seconds(
    clients: &Clients,
    stack_id: &str,
    last: &Image,
    template: &Value,
    ctx: &Context,
) -> Option<u64> {
    let arn = last.known("RepositoryArn")?.as_str()?;
    let project = match last.known("ProjectName").and_then(Value::as_str) {
        Some(p) => p.to_owned(),
        // A project's physical ID is its `Name`, which the expansion always sets.
        None => project_name(template, ctx, &last.logical_id)?,
    };
    let tags = ecr::repository_tags(&clients.ecr, arn).await.ok()?;
    let marker = tags.get(&cib_trigger::marker::build_marker_key(
        stack_id,
        &last.logical_id,
    ))?;
    let id = cib_trigger::marker::build_id(&project, marker)?;
    aws::codebuild::build_seconds(&clients.codebuild, &id)
        .await
        .ok()
        .flatten()
}

/// The `Name` of the project the trigger `logical_id` builds on, resolved.
fn project_name(template: &Value, ctx: &Context, logical_id: &str) -> Option<String> {
    project_property(template, ctx, logical_id, &["Name"])
}

/// The property at `path` of the project the trigger `logical_id` builds on
/// (`ProjectName: !Ref <project>`), resolved; `None` when absent or known only during the
/// deploy.
fn project_property(
    template: &Value,
    ctx: &Context,
    logical_id: &str,
    path: &[&str],
) -> Option<String> {
    let resources = template.get("Resources")?;
    let project = resources
        .get(logical_id)?
        .get("Properties")?
        .get("ProjectName")?
        .get("Ref")?
        .as_str()?;
    let raw = path
        .iter()
        .try_fold(resources.get(project)?.get("Properties")?, |v, key| {
            v.get(key)
        })?;
    let mut resolver = Resolver::new(template, ctx);
    resolver
        .resolve(raw)
        .filter(|v| placeholder(v).is_none())
        .and_then(|v| v.as_str().map(str::to_owned))
}
