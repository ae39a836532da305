//! Findings as SARIF 2.1.0, for code-scanning dashboards.
//!
//! One run of the `cib` tool; one reporting rule per check id, or per guard rule for policy
//! findings (`ruleId` is the guard rule's name). Every result points at the template file; a
//! syntax error (CIB001) also carries its line and column, and every result names its
//! property path as a logical location.

use cib_engine::{Finding, Severity};
use serde_json::{Value, json};

/// The schema every SARIF 2.1.0 log names.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The findings as one SARIF 2.1.0 log.
pub fn to_sarif(template: &str, findings: &[Finding]) -> String {
    let mut rules: Vec<Value> = Vec::new();
    let mut rule_ids: Vec<String> = Vec::new();
    let results: Vec<Value> = findings
        .iter()
        .map(|finding| {
            let rule_id = rule_id(finding);
            let index = match rule_ids.iter().position(|id| *id == rule_id) {
                Some(index) => index,
                None => {
                    rules.push(rule(finding, &rule_id));
                    rule_ids.push(rule_id.clone());
                    rule_ids.len() - 1
                }
            };
            result(template, finding, &rule_id, index)
        })
        .collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "cib",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    format!("{log:#}\n")
}

fn rule_id(finding: &Finding) -> String {
    finding
        .rule
        .clone()
        .unwrap_or_else(|| finding.id.to_owned())
}

fn rule(finding: &Finding, rule_id: &str) -> Value {
    let summary = match &finding.rule {
        Some(rule) => format!("cfn-guard rule {rule} ({})", finding.id),
        None => cib_engine::checks::CATALOG
            .iter()
            .find(|info| info.id == finding.id)
            .map_or_else(|| finding.id.to_owned(), |info| info.summary.to_owned()),
    };
    json!({
        "id": rule_id,
        "shortDescription": {"text": summary},
        "defaultConfiguration": {"level": level(finding.severity)},
        "properties": {"checkId": finding.id},
    })
}

fn result(template: &str, finding: &Finding, rule_id: &str, index: usize) -> Value {
    let mut physical = json!({"artifactLocation": {"uri": uri(template)}});
    if let Some((line, column)) = line_and_column(&finding.path) {
        physical["region"] = json!({"startLine": line, "startColumn": column});
    }
    let mut location = json!({"physicalLocation": physical});
    if !finding.path.is_empty() && finding.id != crate::report::PARSE_ERROR_ID {
        location["logicalLocations"] = json!([{
            "fullyQualifiedName": finding.path,
            "kind": "member",
        }]);
    }
    let mut text = finding.message.clone();
    if !finding.fix.is_empty() {
        text.push_str(&format!(" Fix: {}", finding.fix));
    }
    let mut properties = json!({"checkId": finding.id, "path": finding.path});
    if let Some(resource) = &finding.resource {
        properties["resource"] = json!(resource);
    }
    json!({
        "ruleId": rule_id,
        "ruleIndex": index,
        "level": level(finding.severity),
        "message": {"text": text},
        "locations": [location],
        "properties": properties,
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A file name as a relative URI reference: `/`-separated, anything but unreserved
/// characters percent-encoded; standard input is `stdin`.
fn uri(template: &str) -> String {
    if template == "<stdin>" {
        return "stdin".to_owned();
    }
    let mut out = String::new();
    for byte in template.replace('\\', "/").bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `line L, column C` (the path of a CIB001 finding) as numbers.
fn line_and_column(path: &str) -> Option<(u64, u64)> {
    let (line, column) = path.strip_prefix("line ")?.split_once(", column ")?;
    Some((line.parse().ok()?, column.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings() -> Vec<Finding> {
        let mut policy = Finding::error(
            "CIB051",
            Some("ContainerImageBuildProjectArm64"),
            "Resources.ContainerImageBuildProjectArm64.Properties.Environment.ComputeType",
            "large builds cost too much.",
            "set ComputeType.",
        );
        policy.rule = Some("no_large_builds".into());
        vec![
            Finding::error("CIB001", None, "line 3, column 7", "bad YAML", "fix it"),
            Finding::warning("CIB027", None, "", "no region", ""),
            policy.clone(),
            policy,
        ]
    }

    #[test]
    fn log_has_the_required_sarif_2_1_0_shape() {
        let log: Value =
            serde_json::from_str(&to_sarif("dir/my t.yaml", &findings())).expect("JSON");
        assert_eq!(log["version"], "2.1.0");
        assert_eq!(log["$schema"], SCHEMA);
        let run = &log["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "cib");
        let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
        assert_eq!(rules.len(), 3, "one rule per id, the guard rule once");
        let results = run["results"].as_array().expect("results");
        assert_eq!(results.len(), 4);
        for result in results {
            let index = result["ruleIndex"].as_u64().expect("index") as usize;
            assert_eq!(rules[index]["id"], result["ruleId"]);
            assert!(matches!(
                result["level"].as_str(),
                Some("error" | "warning")
            ));
            assert!(result["message"]["text"].is_string());
            assert_eq!(
                result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                "dir/my%20t.yaml"
            );
        }
        assert_eq!(
            results[0]["locations"][0]["physicalLocation"]["region"],
            json!({"startLine": 3, "startColumn": 7})
        );
        assert_eq!(results[2]["ruleId"], "no_large_builds");
        assert_eq!(
            results[2]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            "Resources.ContainerImageBuildProjectArm64.Properties.Environment.ComputeType"
        );
        assert_eq!(
            results[2]["properties"]["resource"],
            "ContainerImageBuildProjectArm64"
        );
    }

    #[test]
    fn standard_input_is_a_valid_uri() {
        assert_eq!(uri("<stdin>"), "stdin");
    }
}
