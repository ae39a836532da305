//! CIB062: a dependency cycle through an image.
//!
//! An image whose properties (`BuildArgs`, ...) refer to a resource that itself depends on the
//! image (through `Ref`, `Fn::GetAtt`, `Fn::Sub`, or `DependsOn`, directly or through other
//! resources) can never be created: CloudFormation refuses the template at deploy time with
//! "Circular dependency between resources". The check runs on the expanded template, so a
//! `Ref` to an image (rewritten to its `ImageUri`) counts like any other reference.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::{Map, Value};

use super::{Context, ids};
use crate::finding::Finding;
use crate::path::TemplatePath;

/// Reports, for each image on a dependency cycle, the shortest cycle through it.
pub fn check(context: &Context<'_>) -> Vec<Finding> {
    let Some(resources) = context.expanded.get("Resources").and_then(Value::as_object) else {
        return Vec::new();
    };
    let graph = dependencies(resources);
    let mut reported: BTreeSet<Vec<String>> = BTreeSet::new();
    let mut findings = Vec::new();
    for image in context.images {
        let id = image.logical_id.as_str();
        let Some(cycle) = shortest_cycle(&graph, id) else {
            continue;
        };
        let mut key = cycle.clone();
        key.sort();
        if !reported.insert(key) {
            continue;
        }
        let mut shown: Vec<&str> = cycle.iter().map(String::as_str).collect();
        shown.push(id);
        findings.push(Finding::error(
            ids::DEPENDENCY_CYCLE,
            Some(id),
            TemplatePath::properties_of(id),
            format!(
                "dependency cycle through the image: {} (each depends on the next); \
                 CloudFormation refuses the template",
                shown.join(" -> ")
            ),
            "break the cycle: an image cannot take a build argument (or other property) from a resource that needs the image",
        ));
    }
    findings
}

/// The resources each resource depends on (only those in the template), in a stable order.
fn dependencies(resources: &Map<String, Value>) -> BTreeMap<&str, BTreeSet<&str>> {
    let mut graph = BTreeMap::new();
    for (id, resource) in resources {
        let mut targets = BTreeSet::new();
        if let Some(properties) = resource.get("Properties") {
            references(properties, &mut targets);
        }
        match resource.get("DependsOn") {
            Some(Value::String(one)) => {
                targets.insert(one.as_str());
            }
            Some(Value::Array(many)) => targets.extend(many.iter().filter_map(Value::as_str)),
            _ => {}
        }
        let targets = targets
            .into_iter()
            .filter_map(|t| resources.get_key_value(t).map(|(k, _)| k.as_str()))
            .collect();
        graph.insert(id.as_str(), targets);
    }
    graph
}

/// Adds every logical ID that `value` refers to (`Ref`, `Fn::GetAtt`, `Fn::Sub`) to `out`.
fn references<'a>(value: &'a Value, out: &mut BTreeSet<&'a str>) {
    match value {
        Value::Object(map) => {
            if map.len() == 1 {
                match map.iter().next() {
                    Some((key, Value::String(target))) if key == "Ref" => {
                        out.insert(target.as_str());
                        return;
                    }
                    Some((key, target)) if key == "Fn::GetAtt" => {
                        match target {
                            Value::Array(items) => {
                                if let Some(Value::String(id)) = items.first() {
                                    out.insert(id.as_str());
                                }
                                for item in items.iter().skip(1) {
                                    references(item, out);
                                }
                            }
                            Value::String(dotted) => {
                                out.insert(dotted.split('.').next().unwrap_or(dotted));
                            }
                            _ => {}
                        }
                        return;
                    }
                    Some((key, body)) if key == "Fn::Sub" => {
                        sub_references(body, out);
                        return;
                    }
                    _ => {}
                }
            }
            for child in map.values() {
                references(child, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                references(item, out);
            }
        }
        _ => {}
    }
}

/// The references of a `Fn::Sub` body: `${Name}` and `${Name.Attr}` in its text (not its
/// own variables, not `${!Literal}`), and the references of its variables' values.
fn sub_references<'a>(body: &'a Value, out: &mut BTreeSet<&'a str>) {
    let (text, variables) = match body {
        Value::String(text) => (text.as_str(), None),
        Value::Array(items) => match items.as_slice() {
            [Value::String(text), Value::Object(vars)] => (text.as_str(), Some(vars)),
            _ => return references(body, out),
        },
        _ => return,
    };
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = rest.get(start + 2..).unwrap_or("");
        let Some(end) = after.find('}') else {
            break;
        };
        let name = after.get(..end).unwrap_or("");
        rest = after.get(end + 1..).unwrap_or("");
        if name.starts_with('!') {
            continue;
        }
        let target = name.split('.').next().unwrap_or(name).trim();
        if variables.is_some_and(|vars| vars.contains_key(target)) {
            continue;
        }
        out.insert(target);
    }
    if let Some(vars) = variables {
        for value in vars.values() {
            references(value, out);
        }
    }
}

/// The shortest cycle from `start` back to itself, as the resources in order (starting with
/// `start`), or `None`.
fn shortest_cycle(graph: &BTreeMap<&str, BTreeSet<&str>>, start: &str) -> Option<Vec<String>> {
    let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue: VecDeque<&str> = VecDeque::new();
    for next in graph.get(start)? {
        if *next == start {
            return Some(vec![start.to_owned()]);
        }
        if !previous.contains_key(next) {
            previous.insert(next, start);
            queue.push_back(next);
        }
    }
    while let Some(node) = queue.pop_front() {
        for next in graph.get(node).into_iter().flatten() {
            if *next == start {
                let mut path = vec![node];
                let mut at = node;
                while let Some(before) = previous.get(at) {
                    if *before == start {
                        break;
                    }
                    path.push(before);
                    at = before;
                }
                path.push(start);
                path.reverse();
                return Some(path.into_iter().map(str::to_owned).collect());
            }
            if !previous.contains_key(next) {
                previous.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_the_shortest_cycle_in_order() {
        let resources = json!({
            "Img": {"Properties": {"BuildArgs": {"A": {"Fn::GetAtt": ["Fn", "Arn"]}}}},
            "Fn": {"Properties": {"Role": {"Fn::Sub": "${Role.Arn}"}}},
            "Role": {"DependsOn": "Img", "Properties": {}},
            "Other": {"Properties": {"X": {"Ref": "Img"}}},
        });
        let graph = dependencies(resources.as_object().unwrap_or_else(|| unreachable!()));
        assert_eq!(
            shortest_cycle(&graph, "Img"),
            Some(vec!["Img".to_owned(), "Fn".to_owned(), "Role".to_owned()])
        );
        assert_eq!(shortest_cycle(&graph, "Other"), None);
    }

    #[test]
    fn sub_variables_and_literals_are_not_references() {
        let mut out = BTreeSet::new();
        let body = json!(["${Own}-${!Lit}-${Real.Attr}", {"Own": {"Ref": "Param"}}]);
        sub_references(&body, &mut out);
        assert_eq!(out, BTreeSet::from(["Real", "Param"]));
    }
}
