//! What the caller (CLI or macro) tells the engine about the deployment.

use serde_json::{Map, Value};

/// Who runs the expansion; it decides which `Source` forms are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Caller {
    /// The `cib` command line (`expand`, `check`).
    #[default]
    Cli,
    /// The transform Lambda behind the `ContainerImageBuild` macro.
    Macro,
}

/// The text the expanded template is written as. CloudFormation's size limits apply to
/// that text, so the size checks (CIB041, CIB042) measure it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Written {
    /// Compact JSON: the fragment the macro's Lambda returns.
    #[default]
    CompactJson,
    /// Block YAML, as `cib expand` writes it ([`crate::template::to_yaml`]).
    Yaml,
    /// Pretty JSON, as `cib expand` and `cib deploy` write it ([`crate::template::to_json`]).
    PrettyJson,
}

/// Inputs of one expansion besides the template itself.
#[derive(Debug, Clone, Default)]
pub struct ExpandOptions {
    /// Who runs the expansion.
    pub caller: Caller,
    /// The stack's region (macro event `region`; CLI `--region`, then `AWS_REGION`).
    pub region: Option<String>,
    /// Parameter values: the macro's `templateParameterValues`, or the CLI's
    /// `--parameter-overrides`. A parameter missing here falls back to its `Default`.
    pub parameters: Map<String, Value>,
    /// The provider's ServiceToken; `None` means the documented default
    /// (the support stack's `ContainerImageBuild-Provider` function in the stack's account and region).
    pub provider_arn: Option<String>,
    /// The text the expansion is written as (what the size checks measure).
    pub written: Written,
}
