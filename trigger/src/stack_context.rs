//! What a template is resolved against, from a deployed stack: the parameter values an
//! update would use (or CloudFormation used), NoEcho and SSM-typed parameters as unknowns,
//! the physical IDs of its resources. Pure: the caller reads the stack.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::resolve::Context;

/// The deployed stack, as far as resolving goes.
#[derive(Debug, Clone, Default)]
pub struct Deployed {
    /// Its id (ARN).
    pub stack_id: String,
    /// Its parameter values (`****` for NoEcho ones).
    pub parameters: BTreeMap<String, String>,
    /// Logical id to physical id.
    pub physical_ids: BTreeMap<String, String>,
}

/// Where a stack is, for its pseudo parameters.
#[derive(Debug, Clone, Copy)]
pub struct StackPlace<'a> {
    /// `AWS::Region`.
    pub region: &'a str,
    /// `AWS::AccountId`.
    pub account: &'a str,
    /// `AWS::StackName`.
    pub stack_name: &'a str,
    /// `AWS::Partition`.
    pub partition: &'a str,
    /// `AWS::URLSuffix`.
    pub url_suffix: &'a str,
    /// `AWS::StackId`, once the stack exists.
    pub stack_id: Option<&'a str>,
}

/// The pseudo parameters of the stack at `place`.
pub fn pseudo_parameters(place: StackPlace<'_>) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    m.insert("AWS::Region".to_owned(), place.region.to_owned());
    m.insert("AWS::AccountId".to_owned(), place.account.to_owned());
    m.insert("AWS::StackName".to_owned(), place.stack_name.to_owned());
    m.insert("AWS::Partition".to_owned(), place.partition.to_owned());
    m.insert("AWS::URLSuffix".to_owned(), place.url_suffix.to_owned());
    if let Some(id) = place.stack_id {
        m.insert("AWS::StackId".to_owned(), id.to_owned());
    }
    m
}

/// DescribeStacks' stand-in for a NoEcho parameter's value.
pub const NO_ECHO: &str = "****";

/// The context for `template`: each declared parameter takes its override, else (on an
/// update) the stack's current value, else its `Default`, as `cib deploy` passes them and
/// as CloudFormation resolved them for a deployed stack. `pseudo` holds the pseudo
/// parameters the caller knows (region, account, partition, ...).
pub fn context(
    template: &Value,
    overrides: &BTreeMap<String, String>,
    pseudo: BTreeMap<String, String>,
    deployed: Option<&Deployed>,
) -> Context {
    let mut ctx = Context {
        pseudo,
        physical_ids: deployed.map(|d| d.physical_ids.clone()).unwrap_or_default(),
        ..Context::default()
    };
    let declared = template
        .get("Parameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (name, decl) in &declared {
        let kind = decl.get("Type").and_then(Value::as_str).unwrap_or("String");
        let previous = deployed.and_then(|d| d.parameters.get(name));
        let raw = match (overrides.get(name), previous) {
            (Some(v), _) => Some(v.clone()),
            (None, Some(v)) if v == NO_ECHO => {
                ctx.unknown_parameters.insert(
                    name.clone(),
                    "a NoEcho parameter, whose value CloudFormation does not show".to_owned(),
                );
                continue;
            }
            (None, Some(v)) => Some(v.clone()),
            (None, None) => decl.get("Default").map(|d| match d {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
        };
        if kind.starts_with("AWS::SSM::Parameter::Value<") {
            ctx.unknown_parameters.insert(
                name.clone(),
                "an SSM parameter, read by CloudFormation during the deploy".to_owned(),
            );
            continue;
        }
        let Some(raw) = raw else {
            continue;
        };
        let value = if kind == "CommaDelimitedList" || kind.starts_with("List<") {
            Value::Array(
                raw.split(',')
                    .map(|s| Value::String(s.to_owned()))
                    .collect(),
            )
        } else {
            Value::String(raw)
        };
        ctx.parameters.insert(name.clone(), value);
    }
    ctx
}

/// Adds the attributes of the template's existing ECR repositories (their URI and ARN
/// follow from their name, account, region and partition).
pub fn repository_attributes(template: &Value, ctx: &mut Context) {
    let (Some(account), Some(region), Some(partition), Some(suffix)) = (
        ctx.pseudo.get("AWS::AccountId").cloned(),
        ctx.pseudo.get("AWS::Region").cloned(),
        ctx.pseudo.get("AWS::Partition").cloned(),
        ctx.pseudo.get("AWS::URLSuffix").cloned(),
    ) else {
        return;
    };
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return;
    };
    for (id, resource) in resources {
        if resource.get("Type").and_then(Value::as_str) != Some("AWS::ECR::Repository") {
            continue;
        }
        let Some(name) = ctx.physical_ids.get(id).cloned() else {
            continue;
        };
        ctx.attributes.insert(
            (id.clone(), "RepositoryUri".into()),
            json!(format!("{account}.dkr.ecr.{region}.{suffix}/{name}")),
        );
        ctx.attributes.insert(
            (id.clone(), "Arn".into()),
            json!(format!(
                "arn:{partition}:ecr:{region}:{account}:repository/{name}"
            )),
        );
    }
}
