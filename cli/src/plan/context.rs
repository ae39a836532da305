//! What a template is resolved against, from the deployed stack and the command line: the
//! parameter values an update would use, the pseudo parameters, the physical IDs.

use std::collections::BTreeMap;

use serde_json::Value;

use super::resolve::Context;

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

/// Where the stack is.
#[derive(Debug, Clone)]
pub struct Place<'a> {
    /// The stack's name.
    pub stack_name: &'a str,
    /// Its region.
    pub region: &'a str,
    /// The account (the stack id's, else the caller's).
    pub account: &'a str,
}

/// DescribeStacks' stand-in for a NoEcho parameter's value.
const NO_ECHO: &str = "****";

/// The pseudo parameters known before the deploy.
pub fn pseudo(place: &Place<'_>, deployed: Option<&Deployed>) -> BTreeMap<String, String> {
    let partition = cib_engine::partition::partition_of(place.region)
        .map_or("aws", |p| p.id)
        .to_owned();
    let suffix = if partition == "aws-cn" {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    let mut m = BTreeMap::new();
    m.insert("AWS::Region".to_owned(), place.region.to_owned());
    m.insert("AWS::AccountId".to_owned(), place.account.to_owned());
    m.insert("AWS::StackName".to_owned(), place.stack_name.to_owned());
    m.insert("AWS::Partition".to_owned(), partition);
    m.insert("AWS::URLSuffix".to_owned(), suffix.to_owned());
    if let Some(d) = deployed.filter(|d| !d.stack_id.is_empty()) {
        m.insert("AWS::StackId".to_owned(), d.stack_id.clone());
    }
    m
}

/// The context for `template`: each declared parameter takes its override, else (on an
/// update) the stack's current value, else its `Default`, as `cib deploy` passes them.
pub fn context(
    template: &Value,
    overrides: &BTreeMap<String, String>,
    place: &Place<'_>,
    deployed: Option<&Deployed>,
) -> Context {
    let mut ctx = Context {
        pseudo: pseudo(place, deployed),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn overrides_then_the_stacks_values_then_defaults() {
        let template = json!({"Parameters": {
            "A": {"Type": "String", "Default": "da"},
            "B": {"Type": "String", "Default": "db"},
            "C": {"Type": "CommaDelimitedList", "Default": "x,y"},
            "D": {"Type": "String", "NoEcho": true},
            "E": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/p"}
        }});
        let deployed = Deployed {
            stack_id: "arn:aws:cloudformation:us-east-1:1:stack/s/u".into(),
            parameters: [("B", "sb"), ("D", "****"), ("A", "sa")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            physical_ids: BTreeMap::new(),
        };
        let overrides = [("A".to_owned(), "oa".to_owned())].into_iter().collect();
        let place = Place {
            stack_name: "s",
            region: "cn-north-1",
            account: "1",
        };
        let ctx = context(&template, &overrides, &place, Some(&deployed));
        assert_eq!(ctx.parameters.get("A"), Some(&json!("oa")));
        assert_eq!(ctx.parameters.get("B"), Some(&json!("sb")));
        assert_eq!(ctx.parameters.get("C"), Some(&json!(["x", "y"])));
        assert!(ctx.unknown_parameters.contains_key("D"));
        assert!(ctx.unknown_parameters.contains_key("E"));
        assert_eq!(ctx.pseudo["AWS::Partition"], "aws-cn");
        assert_eq!(ctx.pseudo["AWS::StackId"], deployed.stack_id);
    }
}
