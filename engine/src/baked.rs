//! Parameters baked in at expansion: when `cib expand` resolved a shape-deciding property
//! (`Platform: !Ref Arch`, `ReplicaRegions: !Ref Regions`, ...) from a template parameter, the
//! expanded template still declares that parameter, so a deploy with another value would build
//! for the old value while the rest of the stack uses the new one. This module adds a `Rules`
//! assertion per such parameter that it still has the value used, saying to expand again.
//!
//! Only for the CLI: the macro runs again on every deploy with the values of that deploy.

use serde_json::{Map, Value, json};

use crate::intrinsic::ref_target;
use crate::options::{Caller, ExpandOptions};
use crate::params::ParameterValues;
use crate::spec::RESOURCE_TYPE;
use crate::spec::resolve::{SHAPE_LISTS, SHAPE_MAPPINGS, SHAPE_SCALARS};

/// The prefix of the rules this module adds.
pub const RULE_PREFIX: &str = "ContainerImageBuildParameter";

/// Most conditions one `Fn::And` takes (CloudFormation rules: 2 to 10).
const AND_MAX: usize = 10;

/// A parameter that decided the shape of the output, and where.
#[derive(Debug)]
struct Baked {
    /// The parameter's name.
    name: String,
    /// The images whose properties referred to it.
    images: Vec<String>,
}

/// Adds the rules to `expanded` for every parameter a shape-deciding property of an image of
/// `original` referred to with `Ref`, and for the parameters in `loops` (name, and the
/// `Fn::ForEach` loop whose collection it gave) (CLI only; nothing when there is none).
pub fn add_rules(
    original: &Value,
    expanded: &mut Value,
    options: &ExpandOptions,
    loops: &[(String, String)],
) {
    if options.caller != Caller::Cli {
        return;
    }
    let mut baked = baked_parameters(original);
    for (name, loop_key) in loops {
        match baked.iter_mut().find(|b| b.name == *name) {
            Some(entry) => entry.images.push(loop_key.clone()),
            None => baked.push(Baked {
                name: name.clone(),
                images: vec![loop_key.clone()],
            }),
        }
    }
    if baked.is_empty() {
        return;
    }
    let values = ParameterValues::new(original, options);
    let declared = original.get("Parameters").and_then(Value::as_object);
    let Some(root) = expanded.as_object_mut() else {
        return;
    };
    let mut rules = match root.get("Rules") {
        Some(Value::Object(rules)) => rules.clone(),
        _ => Map::new(),
    };
    for parameter in baked {
        let Some(used) = values.value(&parameter.name) else {
            continue;
        };
        let Some(assert) = assertion(&parameter.name, &used, declared) else {
            continue;
        };
        let shown = match &used {
            Value::Array(items) => items.iter().map(text_of).collect::<Vec<_>>().join(","),
            other => text_of(other),
        };
        let description = format!(
            "{} was expanded by cib with parameter {} = \"{shown}\"; to deploy another value, \
             expand the template again (cib expand --parameter-overrides {}=...)",
            parameter.images.join(", "),
            parameter.name,
            parameter.name
        );
        let id = rule_id(&parameter.name, &rules);
        rules.insert(
            id,
            json!({"Assertions": [{"Assert": assert, "AssertDescription": description}]}),
        );
    }
    root.insert("Rules".to_owned(), Value::Object(rules));
}

/// The parameters that shape-deciding properties of the images refer to, in template order.
fn baked_parameters(original: &Value) -> Vec<Baked> {
    let declared = original.get("Parameters").and_then(Value::as_object);
    let mut baked: Vec<Baked> = Vec::new();
    let Some(resources) = original.get("Resources").and_then(Value::as_object) else {
        return baked;
    };
    for (id, resource) in resources {
        if resource.get("Type").and_then(Value::as_str) != Some(RESOURCE_TYPE) {
            continue;
        }
        let Some(properties) = resource.get("Properties").and_then(Value::as_object) else {
            continue;
        };
        let mut refs: Vec<&str> = Vec::new();
        let names = SHAPE_SCALARS
            .iter()
            .map(|(name, _)| *name)
            .chain(SHAPE_LISTS.iter().copied())
            .chain(SHAPE_MAPPINGS.iter().copied());
        for name in names {
            let Some(value) = properties.get(name) else {
                continue;
            };
            refs.extend(ref_target(value));
            if SHAPE_LISTS.contains(&name)
                && let Value::Array(items) = value
            {
                refs.extend(items.iter().filter_map(ref_target));
            }
        }
        if let Some(days) = properties
            .get("BuildLogs")
            .and_then(|logs| logs.get("RetentionInDays"))
        {
            refs.extend(ref_target(days));
        }
        for name in refs {
            if !declared.is_some_and(|d| d.contains_key(name)) {
                continue; // pseudo parameters (AWS::Region) and undeclared names
            }
            match baked.iter_mut().find(|b| b.name == name) {
                Some(entry) if !entry.images.contains(id) => entry.images.push(id.clone()),
                Some(_) => {}
                None => baked.push(Baked {
                    name: name.to_owned(),
                    images: vec![id.clone()],
                }),
            }
        }
    }
    baked
}

/// A parameter value as the text CloudFormation compares in rules.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The assertion that parameter `name` still has the value `used`.
fn assertion(name: &str, used: &Value, declared: Option<&Map<String, Value>>) -> Option<Value> {
    let is_list = declared
        .and_then(|d| d.get(name))
        .and_then(|p| p.get("Type"))
        .and_then(Value::as_str)
        .is_some_and(|t| t == "CommaDelimitedList" || t.starts_with("List<"));
    let reference = json!({"Ref": name});
    if !is_list {
        return Some(json!({"Fn::Equals": [reference, text_of(used)]}));
    }
    let items: Vec<String> = match used {
        Value::Array(items) => items.iter().map(text_of).collect(),
        _ => return None,
    };
    // Every member is one of the values used, and every value used is a member.
    let mut conditions = vec![json!({"Fn::EachMemberIn": [reference.clone(), items.clone()]})];
    conditions.extend(
        items
            .iter()
            .map(|item| json!({"Fn::Contains": [reference.clone(), item]})),
    );
    Some(all_of(conditions))
}

/// One condition that holds when all of `conditions` hold (`Fn::And` nested by tens).
fn all_of(mut conditions: Vec<Value>) -> Value {
    while conditions.len() > 1 {
        conditions = conditions
            .chunks(AND_MAX)
            .map(|chunk| match chunk {
                [one] => one.clone(),
                many => json!({"Fn::And": many}),
            })
            .collect();
    }
    conditions.pop().unwrap_or(Value::Bool(true))
}

/// A rule id for parameter `name` that `rules` does not use yet.
fn rule_id(name: &str, rules: &Map<String, Value>) -> String {
    let base: String = format!("{RULE_PREFIX}{name}")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    if !rules.contains_key(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}{n}"))
        .find(|id| !rules.contains_key(id))
        .unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::parse_yaml;

    fn expand_rules(text: &str, given: &[(&str, &str)]) -> Value {
        let original = parse_yaml(text).unwrap_or_else(|e| panic!("{e}"));
        let mut options = ExpandOptions::default();
        for (k, v) in given {
            options.parameters.insert((*k).to_owned(), json!(v));
        }
        let mut expanded = original.clone();
        add_rules(&original, &mut expanded, &options, &[]);
        expanded.get("Rules").cloned().unwrap_or(Value::Null)
    }

    #[test]
    fn a_scalar_parameter_gets_an_equals_rule() {
        let rules = expand_rules(
            "Parameters:\n  Arch: {Type: String, Default: arm64}\nResources:\n  Img:\n    Type: Custom::ContainerImageBuild\n    Properties:\n      Platform: !Ref Arch\n      ComputeType: !Ref AWS::Region\n",
            &[("Arch", "amd64")],
        );
        let rule = &rules["ContainerImageBuildParameterArch"]["Assertions"][0];
        assert_eq!(
            rule["Assert"],
            json!({"Fn::Equals": [{"Ref": "Arch"}, "amd64"]})
        );
        let description = rule["AssertDescription"].as_str().unwrap_or_default();
        assert!(
            description.contains("expand the template again"),
            "{description}"
        );
        assert_eq!(rules.as_object().map(Map::len), Some(1));
    }

    #[test]
    fn a_list_parameter_gets_a_membership_rule() {
        let rules = expand_rules(
            "Parameters:\n  Regions: {Type: CommaDelimitedList, Default: 'us-west-2,eu-west-1'}\nRules:\n  Mine: {Assertions: []}\nResources:\n  Img:\n    Type: Custom::ContainerImageBuild\n    Properties:\n      ReplicaRegions: !Ref Regions\n",
            &[],
        );
        assert!(rules.get("Mine").is_some());
        assert_eq!(
            rules["ContainerImageBuildParameterRegions"]["Assertions"][0]["Assert"],
            json!({"Fn::And": [
                {"Fn::EachMemberIn": [{"Ref": "Regions"}, ["us-west-2", "eu-west-1"]]},
                {"Fn::Contains": [{"Ref": "Regions"}, "us-west-2"]},
                {"Fn::Contains": [{"Ref": "Regions"}, "eu-west-1"]}
            ]})
        );
    }

    #[test]
    fn the_macro_adds_no_rules() {
        let original = parse_yaml(
            "Parameters:\n  Arch: {Type: String, Default: arm64}\nResources:\n  Img:\n    Type: Custom::ContainerImageBuild\n    Properties:\n      Platform: !Ref Arch\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let options = ExpandOptions {
            caller: Caller::Macro,
            ..ExpandOptions::default()
        };
        let mut expanded = json!({"Resources": {}});
        add_rules(&original, &mut expanded, &options, &[]);
        assert!(expanded.get("Rules").is_none());
    }
}
