//! The transform behind the `ContainerImageBuild` macro: a CloudFormation macro event in,
//! a macro response out. The Lambda entry point (`main.rs`) only adapts this to
//! `lambda_runtime`; everything here is a plain function over JSON.

use cib_engine::{Caller, ExpandOptions, Finding, Written};
use cib_policy::RuleFile;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Environment variable naming the provider's ARN (the triggers' ServiceToken).
pub const PROVIDER_ARN_VARIABLE: &str = "PROVIDER_ARN";

/// The request CloudFormation sends to a macro.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MacroEvent {
    /// Region of the stack (and of the macro).
    #[serde(default)]
    pub region: Option<String>,
    /// Account that invokes the macro.
    #[serde(default)]
    pub account_id: Option<String>,
    /// The template (without its Transform section) or the snippet.
    #[serde(default)]
    pub fragment: Value,
    /// Name of the macro.
    #[serde(default)]
    pub transform_id: Option<String>,
    /// `Fn::Transform` parameters (unused: the macro is template-level).
    #[serde(default)]
    pub params: Value,
    /// Request id, echoed in the answer.
    #[serde(default)]
    pub request_id: String,
    /// The template's parameter values, evaluated.
    #[serde(default)]
    pub template_parameter_values: Map<String, Value>,
}

/// The answer CloudFormation expects from a macro.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MacroResponse {
    /// Echo of the request id.
    pub request_id: String,
    /// `success` or `failure`.
    pub status: String,
    /// The expanded template, on success.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fragment: Option<Value>,
    /// Every error finding, on failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// Settings of the transform function.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The provider ARN; `None` uses the engine's default (the support stack's provider).
    pub provider_arn: Option<String>,
}

impl Config {
    /// Reads the configuration from the function's environment.
    pub fn from_env() -> Self {
        Config {
            provider_arn: std::env::var(PROVIDER_ARN_VARIABLE)
                .ok()
                .filter(|v| !v.trim().is_empty()),
        }
    }
}

/// Expands the event's fragment. Warnings are returned beside the answer so the caller
/// can log them; errors make the answer a failure that lists each of them.
///
/// The fragment is never answered unvalidated: the expansion runs through the policy pack
/// (`cib-policy`), and any failed rule makes the answer a failure listing the findings.
pub fn handle(event: &MacroEvent, config: &Config) -> (MacroResponse, Vec<Finding>) {
    handle_with_rules(event, config, &[])
}

/// [`handle`], with `rules` evaluated beside the policy pack on the expanded fragment.
pub fn handle_with_rules(
    event: &MacroEvent,
    config: &Config,
    rules: &[RuleFile],
) -> (MacroResponse, Vec<Finding>) {
    let options = ExpandOptions {
        caller: Caller::Macro,
        region: event.region.clone(),
        parameters: event.template_parameter_values.clone(),
        provider_arn: config.provider_arn.clone(),
        // The fragment goes back to CloudFormation as compact JSON.
        written: Written::CompactJson,
    };
    let outcome = cib_engine::expand(&event.fragment, &options);
    let mut findings = outcome.findings;
    if let Some(fragment) = &outcome.template {
        findings.extend(cib_policy::check(fragment, rules));
    }
    let (errors, warnings): (Vec<Finding>, Vec<Finding>) =
        findings.into_iter().partition(Finding::is_error);
    let response = match outcome.template {
        Some(fragment) if errors.is_empty() => MacroResponse {
            request_id: event.request_id.clone(),
            status: "success".into(),
            fragment: Some(fragment),
            error_message: None,
        },
        _ => MacroResponse {
            request_id: event.request_id.clone(),
            status: "failure".into(),
            fragment: None,
            error_message: Some(error_message(&errors)),
        },
    };
    (response, warnings)
}

/// All error findings in one message, as shown in the stack's events.
pub fn error_message(errors: &[Finding]) -> String {
    if errors.is_empty() {
        return "the expansion failed without a finding (this is a bug)".to_owned();
    }
    let parts: Vec<String> = errors
        .iter()
        .map(|f| {
            let id = match &f.rule {
                Some(rule) => format!("{} {rule}", f.id),
                None => f.id.to_owned(),
            };
            format!("[{id}] {}: {} (fix: {})", f.path, f.message, f.fix)
        })
        .collect();
    format!("{} error(s): {}", errors.len(), parts.join(" | "))
}

/// One structured log line for a finding.
pub fn log_line(event: &MacroEvent, finding: &Finding) -> String {
    serde_json::json!({
        "level": if finding.is_error() { "error" } else { "warning" },
        "requestId": event.request_id,
        "accountId": event.account_id,
        "region": event.region,
        "finding": finding,
    })
    .to_string()
}
