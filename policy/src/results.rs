//! cfn-guard's structured report turned into findings: one per failed clause, with the rule's
//! name, the resource, the property path and the rule's custom message.

use cib_engine::Finding;
use serde_json::Value;

use crate::{Origin, PACK_FINDING_ID, RuleFile, USER_FINDING_ID};

/// The longest message taken from cfn-guard's own text (it embeds whole values).
const MAX_MESSAGE: usize = 300;

/// One failed check of a guard rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFinding {
    /// The rule's name.
    pub rule: String,
    /// The rule file that holds it.
    pub file: String,
    /// The pack or a user's file.
    pub origin: Origin,
    /// Logical ID of the resource concerned, when the path is inside `Resources`.
    pub resource: Option<String>,
    /// Path of the offending value, e.g. `Resources.ApiImageRepository.Properties.ImageScanningConfiguration`.
    pub path: String,
    /// What is wrong: the rule's custom message (its `Violation:` part), else cfn-guard's.
    pub message: String,
    /// How to fix it: the custom message's `Fix:` part, else a pointer to the rule.
    pub fix: String,
}

impl PolicyFinding {
    /// The finding as an engine error finding: [`PACK_FINDING_ID`] or [`USER_FINDING_ID`],
    /// with the rule's name.
    pub fn to_finding(&self) -> Finding {
        let id = match self.origin {
            Origin::Pack => PACK_FINDING_ID,
            Origin::User => USER_FINDING_ID,
        };
        let mut finding = Finding::error(
            id,
            self.resource.as_deref(),
            self.path.clone(),
            self.message.clone(),
            self.fix.clone(),
        );
        finding.rule = Some(self.rule.clone());
        finding
    }
}

/// Every failed clause of `report` (cfn-guard's structured JSON for one data file).
pub fn findings(report: &Value, files: &[&RuleFile]) -> Vec<PolicyFinding> {
    let mut out: Vec<PolicyFinding> = Vec::new();
    let failed = report
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|file| file.get("not_compliant").and_then(Value::as_array))
        .flatten();
    for entry in failed {
        let Some(rule) = entry.get("Rule") else {
            continue;
        };
        let name = rule
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("<unnamed rule>");
        let file = files
            .iter()
            .find(|f| defines(&f.text, name))
            .or(files.first());
        let (file_name, origin) = file.map_or((String::new(), Origin::User), |f| {
            (f.name.clone(), f.origin)
        });
        let mut clauses = Vec::new();
        collect_clauses(rule, &mut clauses);
        if clauses.is_empty() {
            clauses.push(Clause {
                path: String::new(),
                custom: text_at(rule, &["messages", "custom_message"]),
                error: format!("rule {name} failed"),
            });
        }
        for clause in clauses {
            let (message, fix) = split_message(&clause, name, &file_name);
            let finding = PolicyFinding {
                rule: name.to_owned(),
                file: file_name.clone(),
                origin,
                resource: resource_of(&clause.path),
                path: clause.path,
                message,
                fix,
            };
            if !out.contains(&finding) {
                out.push(finding);
            }
        }
    }
    out
}

/// One failed clause: where, and what it says.
struct Clause {
    path: String,
    custom: String,
    error: String,
}

/// True when `text` defines a rule called `name`.
fn defines(text: &str, name: &str) -> bool {
    text.lines().any(|line| {
        let mut words = line.split_whitespace();
        words.next() == Some("rule") && words.next() == Some(name)
    })
}

/// Walks a rule's report, collecting every `Clause` (inside disjunctions and nested rules too).
fn collect_clauses(node: &Value, out: &mut Vec<Clause>) {
    match node {
        Value::Object(map) => {
            if let Some(clause) = map.get("Clause")
                && let Some(body) = clause.get("Binary").or_else(|| clause.get("Unary"))
            {
                out.push(Clause {
                    path: clause_path(body.get("check").unwrap_or(&Value::Null)),
                    custom: text_at(body, &["messages", "custom_message"]),
                    error: text_at(body, &["messages", "error_message"]),
                });
                return;
            }
            map.values().for_each(|v| collect_clauses(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_clauses(v, out)),
        _ => {}
    }
}

/// The template path a clause's check points at, in the engine's notation.
fn clause_path(check: &Value) -> String {
    let from = ["Resolved", "InResolved"]
        .iter()
        .find_map(|kind| check.get(kind)?.get("from"));
    if let Some(from) = from {
        let path = dotted(from.get("path").and_then(Value::as_str).unwrap_or_default());
        // A function's result (`count(Resources.*)`) carries the path of its first input,
        // a whole resource: the value is then the template's, not that resource's.
        let computed = !from.get("value").is_some_and(Value::is_object)
            && path.starts_with("Resources.")
            && resource_of(&path).is_some_and(|id| path == format!("Resources.{id}"));
        return if computed {
            "Resources".to_owned()
        } else {
            path
        };
    }
    let Some(unresolved) = check.get("UnResolved").and_then(|u| u.get("value")) else {
        return String::new();
    };
    let base = dotted(
        unresolved
            .get("traversed_to")
            .and_then(|t| t.get("path"))
            .and_then(Value::as_str)
            .unwrap_or_default(),
    );
    let rest = unresolved
        .get("remaining_query")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let simple = !rest.is_empty()
        && rest.split('.').all(|key| {
            !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    match (base.is_empty(), simple) {
        (false, true) => format!("{base}.{rest}"),
        (true, true) => rest.to_owned(),
        _ => base,
    }
}

/// `/Resources/Role/Properties/Policies/0` as `Resources.Role.Properties.Policies[0]`.
fn dotted(pointer: &str) -> String {
    let mut path = String::new();
    for segment in pointer.split('/').filter(|s| !s.is_empty()) {
        if !path.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            path.push_str(&format!("[{segment}]"));
        } else {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(segment);
        }
    }
    path
}

/// The logical ID in `Resources.<id>...`.
fn resource_of(path: &str) -> Option<String> {
    let rest = path.strip_prefix("Resources.")?;
    let end = rest.find(['.', '[']).unwrap_or(rest.len());
    Some(rest[..end].to_owned()).filter(|id| !id.is_empty())
}

fn text_at(node: &Value, keys: &[&str]) -> String {
    keys.iter()
        .try_fold(node, |v, key| v.get(key))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The message and the fix: a custom message's `Violation:` and `Fix:` parts (whitespace
/// collapsed), else cfn-guard's own message (shortened) and a pointer to the rule.
fn split_message(clause: &Clause, rule: &str, file: &str) -> (String, String) {
    let custom = collapse(&clause.custom);
    let pointer = format!("see rule {rule} in {file}");
    if custom.is_empty() {
        return (shorten(&collapse(&clause.error)), pointer);
    }
    let (violation, fix) = match custom.split_once("Fix:") {
        Some((violation, fix)) => (violation, fix.trim().to_owned()),
        None => (custom.as_str(), pointer),
    };
    let violation = violation.trim();
    let violation = violation.strip_prefix("Violation:").unwrap_or(violation);
    (violation.trim().to_owned(), fix)
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_become_engine_paths() {
        assert_eq!(
            dotted("/Resources/Role/Properties/Policies/0/PolicyDocument/Statement/12/Action"),
            "Resources.Role.Properties.Policies[0].PolicyDocument.Statement[12].Action"
        );
        assert_eq!(dotted(""), "");
        assert_eq!(resource_of("Resources.Api[0]").as_deref(), Some("Api"));
        assert_eq!(resource_of("Outputs.X"), None);
    }

    #[test]
    fn custom_messages_split_into_violation_and_fix() {
        let clause = Clause {
            path: String::new(),
            custom: "\n  Violation: no scan.\n  Fix: scan it.\n".into(),
            error: "ignored".into(),
        };
        assert_eq!(
            split_message(&clause, "r", "f"),
            ("no scan.".to_owned(), "scan it.".to_owned())
        );
        let bare = Clause {
            path: String::new(),
            custom: String::new(),
            error: "x".repeat(1000),
        };
        let (message, fix) = split_message(&bare, "r", "f.guard");
        assert!(message.len() < 310 && message.ends_with("..."));
        assert_eq!(fix, "see rule r in f.guard");
    }
}
