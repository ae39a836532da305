//! Command-line arguments: what the user typed, parsed by clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// `cib`: expands and checks CloudFormation templates that use `Custom::ContainerImageBuild`.
#[derive(Debug, Parser)]
#[command(name = "cib", version, about, long_about = None)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands of `cib`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Expand every Custom::ContainerImageBuild resource into deployable CloudFormation.
    #[command(after_help = EXPAND_EXAMPLES)]
    Expand(ExpandArgs),
    /// Run every synth-time check on a template and print all findings.
    #[command(after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Zip local build contexts (Source: {Directory}), upload them to S3, rewrite the template.
    #[command(after_help = crate::package::command::EXAMPLES)]
    Package(crate::package::command::PackageArgs),
    /// Deploy or update the support stack (macro, provider, roles) in an account and region.
    #[command(after_help = crate::deploy::bootstrap::EXAMPLES)]
    Bootstrap(crate::deploy::bootstrap::BootstrapArgs),
    /// Package, expand, check against the live registry, and deploy a stack with a change set.
    #[command(after_help = crate::deploy::command::EXAMPLES)]
    Deploy(crate::deploy::command::DeployArgs),
    /// Say which images a deploy would build, copy or skip, and why, before deploying.
    #[command(after_help = crate::plan::command::EXAMPLES)]
    Plan(crate::plan::command::PlanArgs),
    /// Push an image tarball (OCI layout or docker save) to an ECR repository, without Docker.
    #[command(after_help = crate::push::EXAMPLES)]
    Push(crate::push::PushArgs),
}

const EXPAND_EXAMPLES: &str = "\
Examples:
  cib expand samples/minimal-lambda.yaml
  cib expand template.yaml -o expanded.yaml --region us-east-1 \\
      --parameter-overrides Platform=linux/arm64 Stage=prod
  cat template.json | cib expand - --format yaml

Findings go to standard error. On any error finding nothing is written and the exit code is 1.";

const CHECK_EXAMPLES: &str = "\
Examples:
  cib check samples/replication.yaml --region us-east-1
  cib check template.yaml --format json
  cib check template.yaml --rules org-rules/ --format sarif > cib.sarif
  cib check template.yaml --live --stack-name images --region eu-west-1

Exits 1 when any finding is an error, 0 otherwise (warnings never fail).";

/// Arguments shared by every command that reads a template.
#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// The template (YAML or JSON), or `-` for standard input.
    #[arg(value_name = "TEMPLATE")]
    pub template: PathBuf,

    /// The stack's region [default: $AWS_REGION, then $AWS_DEFAULT_REGION].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Parameter values as KEY=VALUE; a parameter not given uses its Default.
    #[arg(
        long = "parameter-overrides",
        value_name = "KEY=VALUE",
        num_args = 1..,
        value_parser = parse_override
    )]
    pub parameter_overrides: Vec<(String, String)>,
}

/// Arguments of `cib expand`.
#[derive(Debug, Args)]
pub struct ExpandArgs {
    /// The template and the deployment it is expanded for.
    #[command(flatten)]
    pub input: TemplateArgs,

    /// Write the expanded template to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Output format [default: the input's format].
    #[arg(long, value_enum)]
    pub format: Option<TemplateFormat>,

    /// The provider's ServiceToken (Lambda ARN) [default: the support stack's
    /// ContainerImageBuild-Provider function in the stack's account and region].
    #[arg(long, value_name = "ARN")]
    pub provider_arn: Option<String>,
}

/// Arguments of `cib check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The template and the deployment it is checked for.
    #[command(flatten)]
    pub input: TemplateArgs,

    /// How findings are printed.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,

    /// cfn-guard rules (a file, or a directory of *.guard files) to evaluate on the expanded
    /// template beside the policy pack; repeatable.
    #[arg(long, value_name = "FILE_OR_DIR")]
    pub rules: Vec<PathBuf>,

    /// Also count the live ECR registry's replication rules toward ECR's limits (AWS credentials needed).
    #[arg(long)]
    pub live: bool,

    /// With --live: the stack this template deploys to (its own rules do not count twice).
    #[arg(long, value_name = "NAME", requires = "live")]
    pub stack_name: Option<String>,

    /// With --live: the account's CodeBuild concurrent-build quota for the template's
    /// compute types (Service Quotas, service codebuild); warn when more images than that
    /// build on one [default: only ARM/Large is compared, with its documented default of 1].
    #[arg(long, value_name = "N", requires = "live", value_parser = clap::value_parser!(u32).range(1..))]
    pub codebuild_quota: Option<u32>,
}

/// The format of an expanded template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TemplateFormat {
    /// Block-style YAML, long-form intrinsics.
    Yaml,
    /// Pretty-printed JSON.
    Json,
}

/// The format of a findings report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// One finding per paragraph, for people.
    Text,
    /// One JSON document, for tools.
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
}

/// Parses one `KEY=VALUE` parameter override; the value may itself contain `=`.
fn parse_override(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got `{raw}`")),
    }
}

/// The stack's region: the flag, else the first non-empty of `AWS_REGION` and
/// `AWS_DEFAULT_REGION` as given by `env`.
pub fn resolve_region(flag: Option<&str>, env: impl Fn(&str) -> Option<String>) -> Option<String> {
    flag.map(str::to_owned).or_else(|| {
        ["AWS_REGION", "AWS_DEFAULT_REGION"]
            .into_iter()
            .filter_map(env)
            .find(|value| !value.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn override_splits_at_the_first_equals_sign() {
        assert_eq!(
            parse_override("Url=https://x/?a=b"),
            Ok(("Url".to_owned(), "https://x/?a=b".to_owned()))
        );
        assert_eq!(parse_override("Empty="), Ok(("Empty".into(), "".into())));
        assert!(parse_override("NoEquals").is_err());
        assert!(parse_override("=value").is_err());
    }

    #[test]
    fn region_prefers_flag_then_aws_region_then_default_region() {
        let env = |name: &str| match name {
            "AWS_REGION" => Some("eu-west-1".to_owned()),
            "AWS_DEFAULT_REGION" => Some("us-west-2".to_owned()),
            _ => None,
        };
        assert_eq!(
            resolve_region(Some("ap-south-1"), env).as_deref(),
            Some("ap-south-1")
        );
        assert_eq!(resolve_region(None, env).as_deref(), Some("eu-west-1"));
        let only_default = |name: &str| match name {
            "AWS_REGION" => Some(String::new()),
            "AWS_DEFAULT_REGION" => Some("us-west-2".to_owned()),
            _ => None,
        };
        assert_eq!(
            resolve_region(None, only_default).as_deref(),
            Some("us-west-2")
        );
        assert_eq!(resolve_region(None, |_| None), None);
    }
}
