//! The ContainerImageBuild expansion engine: parse a template, expand its
//! `Custom::ContainerImageBuild` resources, check the result, and emit it.
//!
//! The engine is pure: it does no I/O and knows nothing of the CLI or Lambda.

pub mod baked;
pub mod checks;
pub mod expand;
pub mod finding;
pub mod foreach;
pub mod intrinsic;
pub mod options;
pub mod params;
pub mod partition;
pub mod path;
pub mod platform;
pub mod schema;
pub mod spec;
pub mod template;

pub use finding::{Finding, Severity};
pub use options::{Caller, ExpandOptions, Written};

use serde_json::Value;

/// The result of expanding a template: the expanded template when there was no
/// error, and every finding (errors and warnings) in template order.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The expanded template; `None` when any finding is an error.
    pub template: Option<Value>,
    /// All findings, errors and warnings.
    pub findings: Vec<Finding>,
}

impl Outcome {
    /// True when some finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(Finding::is_error)
    }
}

/// Like [`expand`], and also counts the registry's live replication configuration (minus
/// what this stack already owns) toward ECR's rule and destination limits (CIB020, CIB021).
pub fn expand_with_registry(
    template: &Value,
    options: &ExpandOptions,
    registry: &checks::replication_registry::Registry,
) -> Outcome {
    let mut outcome = expand(template, options);
    if let Ok(prepared) = foreach::prepare(template, options)
        && let Ok(expanded) = expand::expand_template(&prepared.template, options)
    {
        let live = checks::replication_registry::check(&expanded.images, registry);
        if !live.is_empty() {
            outcome.findings.extend(live);
            outcome.template = None;
        }
    }
    outcome
}

/// Expands every `Custom::ContainerImageBuild` resource of `template` (long form)
/// and runs the synth-time checks on the result.
pub fn expand(template: &Value, options: &ExpandOptions) -> Outcome {
    let mut outcome = match foreach::prepare(template, options) {
        Err(findings) => Outcome {
            template: None,
            findings,
        },
        Ok(prepared) => {
            let mut outcome = expand_only(&prepared.template, options, &prepared.baked);
            if let Some(expanded) = outcome.template.as_mut() {
                foreach::restore(&prepared, expanded);
            }
            outcome
        }
    };
    let tags = checks::unknown_tags::check(template);
    if tags.iter().any(Finding::is_error) {
        outcome.template = None;
    }
    outcome.findings.splice(0..0, tags);
    outcome
}

/// [`expand`] without the checks on the template as written.
fn expand_only(template: &Value, options: &ExpandOptions, loops: &[(String, String)]) -> Outcome {
    match expand::expand_template(template, options) {
        Err(findings) => Outcome {
            template: None,
            findings,
        },
        Ok(mut expanded) => {
            if !expanded.images.is_empty() {
                baked::add_rules(template, &mut expanded.template, options, loops);
            }
            let context = checks::Context {
                images: &expanded.images,
                indexes: &expanded.indexes,
                original: template,
                expanded: &expanded.template,
                region: options.region.as_deref(),
                written: options.written,
            };
            let findings = checks::run(&context);
            let failed = findings.iter().any(Finding::is_error);
            Outcome {
                template: (!failed).then_some(expanded.template),
                findings,
            }
        }
    }
}
