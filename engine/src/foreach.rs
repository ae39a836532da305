//! `AWS::LanguageExtensions` loops (`Fn::ForEach::<Name>`) around the expansion.
//!
//! A loop in `Resources`, `Outputs` or `Conditions` that declares no
//! `Custom::ContainerImageBuild` is set aside before the expansion and put back, unchanged but
//! for `Ref`s to images (which point at their `ImageUri` like everywhere else), at its place
//! afterwards, for CloudFormation's `AWS::LanguageExtensions` transform to expand.
//!
//! A loop in `Resources` whose body declares an image is expanded here the way CloudFormation
//! documents it (Template Reference, `Fn::ForEach`), so the images can be expanded: the
//! collection is a list of strings or a `Ref` to a `CommaDelimitedList` (or `List<...>`)
//! parameter; every `${Identifier}` in the output keys and values becomes the item,
//! `&{Identifier}` the item without its non-alphanumeric characters, and `{"Ref":
//! Identifier}` the item; loops nest. The macro cannot do this (CloudFormation hands it the
//! template before `AWS::LanguageExtensions` when that is listed after `ContainerImageBuild`),
//! so there such a loop is an error that says to list `AWS::LanguageExtensions` first.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::checks::ids;
use crate::finding::Finding;
use crate::options::{Caller, ExpandOptions};
use crate::params::ParameterValues;
use crate::path::TemplatePath;
use crate::spec::RESOURCE_TYPE;

/// The prefix of a loop's key.
pub const PREFIX: &str = "Fn::ForEach::";

/// The sections a loop may stand in.
const SECTIONS: &[&str] = &["Resources", "Conditions", "Outputs"];

/// A loop kept out of the expansion: its section, key, value and the key it followed.
#[derive(Debug, Clone)]
struct SetAside {
    /// `Resources`, `Conditions` or `Outputs`.
    section: &'static str,
    /// The preceding key in the section, or `None` for the first.
    after: Option<String>,
    /// `Fn::ForEach::<Name>`.
    key: String,
    /// The loop as written.
    value: Value,
}

/// A template ready for the expansion, and the loops to put back afterwards.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The template with image loops expanded and the other loops set aside.
    pub template: Value,
    /// The loops set aside.
    set_aside: Vec<SetAside>,
    /// The parameters whose values decided how many images an expanded loop made: the
    /// parameter's name and the loop's key.
    pub baked: Vec<(String, String)>,
}

impl Prepared {
    /// True when the template had no loop at all.
    pub fn is_unchanged(&self) -> bool {
        self.set_aside.is_empty()
    }
}

/// Expands the loops that declare images and sets the others aside.
pub fn prepare(template: &Value, options: &ExpandOptions) -> Result<Prepared, Vec<Finding>> {
    let mut out = template.clone();
    let mut set_aside = Vec::new();
    let mut baked = Vec::new();
    let mut findings = Vec::new();
    let parameters = ParameterValues::new(template, options);
    if let Some(root) = out.as_object_mut() {
        for section in SECTIONS {
            let Some(Value::Object(entries)) = root.get_mut(*section) else {
                continue;
            };
            if !entries.keys().any(|k| k.starts_with(PREFIX)) {
                continue;
            }
            let mut rebuilt = Map::new();
            let mut previous: Option<String> = None;
            for (key, value) in std::mem::take(entries) {
                if !key.starts_with(PREFIX) {
                    previous = Some(key.clone());
                    rebuilt.insert(key, value);
                    continue;
                }
                if *section == "Resources" && declares_image(&value) {
                    if options.caller == Caller::Macro {
                        findings.push(macro_order_error(&key));
                        continue;
                    }
                    match expand_loop(&key, &value, &parameters, 0, &mut baked) {
                        Ok(expanded) => {
                            for (id, resource) in expanded {
                                if rebuilt.contains_key(&id) {
                                    findings.push(*loop_error(
                                        &key,
                                        format!("the loop makes the logical ID `{id}`, which the template already uses"),
                                    ));
                                    continue;
                                }
                                previous = Some(id.clone());
                                rebuilt.insert(id, resource);
                            }
                        }
                        Err(finding) => findings.push(*finding),
                    }
                    continue;
                }
                set_aside.push(SetAside {
                    section,
                    after: previous.clone(),
                    key: key.clone(),
                    value,
                });
                previous = Some(key);
            }
            *entries = rebuilt;
        }
    }
    if findings.is_empty() {
        Ok(Prepared {
            template: out,
            set_aside,
            baked,
        })
    } else {
        Err(findings)
    }
}

/// Puts the loops set aside back into `expanded` at their places, pointing their `Ref`s to
/// images at the images' `ImageUri`.
pub fn restore(prepared: &Prepared, expanded: &mut Value) {
    if prepared.set_aside.is_empty() {
        return;
    }
    let images: BTreeSet<String> = prepared
        .template
        .get("Resources")
        .and_then(Value::as_object)
        .map(|resources| {
            resources
                .iter()
                .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(RESOURCE_TYPE))
                .map(|(id, _)| id.clone())
                .collect()
        })
        .unwrap_or_default();
    let Some(root) = expanded.as_object_mut() else {
        return;
    };
    for section in SECTIONS {
        let mut loops: Vec<SetAside> = prepared
            .set_aside
            .iter()
            .filter(|s| s.section == *section)
            .cloned()
            .collect();
        if loops.is_empty() {
            continue;
        }
        for entry in &mut loops {
            crate::expand::refs::rewrite(&mut entry.value, &images);
        }
        let existing = match root.remove(*section) {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        let mut rebuilt = Map::new();
        place_after(None, &mut loops, &mut rebuilt);
        for (key, value) in existing {
            rebuilt.insert(key.clone(), value);
            place_after(Some(&key), &mut loops, &mut rebuilt);
        }
        for entry in loops {
            rebuilt.insert(entry.key, entry.value);
        }
        root.insert((*section).to_owned(), Value::Object(rebuilt));
    }
}

/// Moves the loops that followed `key` (and those that followed them) into `out`.
fn place_after(key: Option<&str>, loops: &mut Vec<SetAside>, out: &mut Map<String, Value>) {
    while let Some(at) = loops.iter().position(|l| l.after.as_deref() == key) {
        let entry = loops.remove(at);
        let own = entry.key.clone();
        out.insert(entry.key, entry.value);
        place_after(Some(&own), loops, out);
    }
}

/// Whether a loop's value declares a `Custom::ContainerImageBuild` anywhere in it.
fn declares_image(value: &Value) -> bool {
    match value {
        Value::Object(map) => {
            map.get("Type").and_then(Value::as_str) == Some(RESOURCE_TYPE)
                || map.values().any(declares_image)
        }
        Value::Array(items) => items.iter().any(declares_image),
        _ => false,
    }
}

/// The error for an image loop the macro receives.
fn macro_order_error(key: &str) -> Finding {
    Finding::error(
        ids::LOOP_NOT_EXPANDABLE,
        None,
        TemplatePath::resource(key),
        format!(
            "the loop `{key}` declares a Custom::ContainerImageBuild, which the macro can only expand after AWS::LanguageExtensions has expanded the loop: list AWS::LanguageExtensions before ContainerImageBuild in Transform"
        ),
        "list AWS::LanguageExtensions before ContainerImageBuild in Transform (Transform: [AWS::LanguageExtensions, ContainerImageBuild])",
    )
}

/// An error about the loop `key`.
fn loop_error(key: &str, message: impl Into<String>) -> Box<Finding> {
    Box::new(Finding::error(
        ids::LOOP_NOT_EXPANDABLE,
        None,
        TemplatePath::resource(key),
        message,
        "write the loop as Fn::ForEach::<Name>: [Identifier, [items] or !Ref a CommaDelimitedList parameter, {OutputKey: OutputValue}]",
    ))
}

/// Expands one loop (nested loops inside it too) into its output entries, in order.
fn expand_loop(
    key: &str,
    value: &Value,
    parameters: &ParameterValues<'_>,
    depth: usize,
    baked: &mut Vec<(String, String)>,
) -> Result<Vec<(String, Value)>, Box<Finding>> {
    if depth > crate::template::MAX_DEPTH {
        return Err(loop_error(key, "loops nest too deeply"));
    }
    let Value::Array(parts) = value else {
        return Err(loop_error(
            key,
            format!("`{key}` must be a list of three items"),
        ));
    };
    let [Value::String(identifier), collection, Value::Object(body)] = parts.as_slice() else {
        return Err(loop_error(
            key,
            format!("`{key}` must be [Identifier, Collection, {{OutputKey: OutputValue}}]"),
        ));
    };
    let items = collection_items(key, collection, parameters)?;
    if let Some(name) = crate::intrinsic::ref_target(collection)
        && !baked.iter().any(|(p, _)| p == name)
    {
        baked.push((name.to_owned(), key.to_owned()));
    }
    let mut out: Vec<(String, Value)> = Vec::new();
    for item in &items {
        for (output_key, output_value) in body {
            let output_value = substitute(output_value, identifier, item);
            if output_key.starts_with(PREFIX) {
                let nested_key = substitute_text(output_key, identifier, item);
                out.extend(expand_loop(
                    &nested_key,
                    &output_value,
                    parameters,
                    depth + 1,
                    baked,
                )?);
                continue;
            }
            let new_key = substitute_text(output_key, identifier, item);
            if new_key == *output_key && items.len() > 1 {
                return Err(loop_error(
                    key,
                    format!(
                        "the output key `{output_key}` must contain ${{{identifier}}} or &{{{identifier}}}, so each item makes its own"
                    ),
                ));
            }
            if out.iter().any(|(existing, _)| *existing == new_key) {
                return Err(loop_error(
                    key,
                    format!("the loop makes the key `{new_key}` twice"),
                ));
            }
            out.push((new_key, output_value));
        }
    }
    Ok(out)
}

/// The items of a loop's collection: a list of strings, or a `Ref` to a list parameter.
fn collection_items(
    key: &str,
    collection: &Value,
    parameters: &ParameterValues<'_>,
) -> Result<Vec<String>, Box<Finding>> {
    let resolved = match collection {
        Value::Array(_) => collection.clone(),
        other => match parameters.resolve(other) {
            Ok(Some(value)) => value,
            _ => {
                return Err(loop_error(
                    key,
                    format!(
                        "cib cannot tell the items of the collection of `{key}` at expansion time; it must be a list or a Ref to a CommaDelimitedList parameter"
                    ),
                ));
            }
        },
    };
    let Value::Array(items) = resolved else {
        return Err(loop_error(
            key,
            format!("the collection of `{key}` is not a list"),
        ));
    };
    items
        .iter()
        .map(|item| match item {
            Value::String(text) => Ok(text.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err(loop_error(
                key,
                format!("the collection of `{key}` must hold strings"),
            )),
        })
        .collect()
}

/// `text` with `${identifier}` replaced by `item` and `&{identifier}` by `item` without its
/// non-alphanumeric characters.
fn substitute_text(text: &str, identifier: &str, item: &str) -> String {
    let alphanumeric: String = item.chars().filter(char::is_ascii_alphanumeric).collect();
    text.replace(&format!("${{{identifier}}}"), item)
        .replace(&format!("&{{{identifier}}}"), &alphanumeric)
}

/// `value` with the identifier replaced by `item` in every key and string, and every
/// `{"Ref": identifier}` replaced by `item`.
fn substitute(value: &Value, identifier: &str, item: &str) -> Value {
    match value {
        Value::String(text) => Value::String(substitute_text(text, identifier, item)),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| substitute(v, identifier, item))
                .collect(),
        ),
        Value::Object(map) => {
            if map.len() == 1 && map.get("Ref").and_then(Value::as_str) == Some(identifier) {
                return Value::String(item.to_owned());
            }
            Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        (
                            substitute_text(k, identifier, item),
                            substitute(v, identifier, item),
                        )
                    })
                    .collect(),
            )
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::parse_yaml;
    use serde_json::json;

    fn read(text: &str) -> Value {
        parse_yaml(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn prepare_default(template: &Value) -> Prepared {
        prepare(template, &ExpandOptions::default()).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn resource_ids(template: &Value) -> Vec<&String> {
        template["Resources"]
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default()
    }

    #[test]
    fn loops_without_images_are_set_aside_and_put_back_in_place() {
        let template = read(
            "Resources:\n  A: {Type: AWS::SNS::Topic}\n  Fn::ForEach::Queues:\n    - Name\n    - [a, b]\n    - Queue${Name}: {Type: AWS::SQS::Queue}\n  B: {Type: AWS::SNS::Topic}\nOutputs:\n  Fn::ForEach::Out:\n    - Name\n    - [a]\n    - Out${Name}: {Value: !Ref Img}\n",
        );
        let prepared = prepare_default(&template);
        let keys = resource_ids(&prepared.template);
        assert_eq!(keys, ["A", "B"]);
        let mut expanded = prepared.template.clone();
        restore(&prepared, &mut expanded);
        assert_eq!(expanded, template);
    }

    #[test]
    fn an_image_loop_is_expanded_as_cloudformation_does() {
        let template = read(
            "Parameters:\n  Services: {Type: CommaDelimitedList, Default: 'api,web-ui'}\nResources:\n  Fn::ForEach::Images:\n    - Svc\n    - !Ref Services\n    - '&{Svc}Image':\n        Type: Custom::ContainerImageBuild\n        Properties:\n          Source: {S3Bucket: b, S3Key: !Sub '${Svc}.zip'}\n          BuildArgs: {NAME: !Ref Svc}\n",
        );
        let prepared = prepare_default(&template);
        assert!(prepared.is_unchanged());
        assert_eq!(
            prepared.template["Resources"],
            json!({
                "apiImage": {"Type": "Custom::ContainerImageBuild", "Properties": {"Source": {"S3Bucket": "b", "S3Key": {"Fn::Sub": "api.zip"}}, "BuildArgs": {"NAME": "api"}}},
                "webuiImage": {"Type": "Custom::ContainerImageBuild", "Properties": {"Source": {"S3Bucket": "b", "S3Key": {"Fn::Sub": "web-ui.zip"}}, "BuildArgs": {"NAME": "web-ui"}}},
            })
        );
    }

    #[test]
    fn nested_loops_expand_and_the_macro_refuses_image_loops() {
        let template = read(
            "Resources:\n  Fn::ForEach::Outer:\n    - A\n    - [x, y]\n    - Fn::ForEach::Inner${A}:\n        - B\n        - ['1', '2']\n        - Img${A}${B}:\n            Type: Custom::ContainerImageBuild\n            Properties: {Source: {S3Bucket: b, S3Key: '${A}/${B}.zip'}}\n",
        );
        let prepared = prepare_default(&template);
        let keys = resource_ids(&prepared.template);
        assert_eq!(keys, ["Imgx1", "Imgx2", "Imgy1", "Imgy2"]);
        assert_eq!(
            prepared.template["Resources"]["Imgy2"]["Properties"]["Source"]["S3Key"],
            json!("y/2.zip")
        );
        let options = ExpandOptions {
            caller: Caller::Macro,
            ..ExpandOptions::default()
        };
        let errors = prepare(&template, &options).err().unwrap_or_default();
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0]
                .fix
                .contains("AWS::LanguageExtensions before ContainerImageBuild")
        );
    }
}
