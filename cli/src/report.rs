//! Printing findings: as text for people, or as one JSON document for tools.

use cib_engine::Finding;
use cib_engine::template::ParseError;
use serde_json::json;

/// The check id of a template that cannot be read (YAML or JSON syntax).
pub const PARSE_ERROR_ID: &str = "CIB001";

/// The finding that reports a template that cannot be parsed, at `line L, column C`.
pub fn parse_error_finding(error: &ParseError) -> Finding {
    Finding::error(
        PARSE_ERROR_ID,
        None,
        format!("line {}, column {}", error.line, error.column),
        error.message.clone(),
        "fix the template's YAML or JSON syntax at that position",
    )
}

/// How many findings are errors and how many are warnings.
pub fn counts(findings: &[Finding]) -> (usize, usize) {
    let errors = findings.iter().filter(|f| f.is_error()).count();
    (errors, findings.len() - errors)
}

/// Findings as text: each finding (level, id, path, message, fix) prefixed with the
/// template's name, then a summary line.
pub fn to_text(template: &str, findings: &[Finding]) -> String {
    let mut text = String::new();
    for finding in findings {
        text.push_str(&format!("{template}: {finding}\n"));
    }
    let (errors, warnings) = counts(findings);
    text.push_str(&format!(
        "{template}: {errors} {}, {warnings} {}\n",
        plural(errors, "error", "errors"),
        plural(warnings, "warning", "warnings"),
    ));
    text
}

/// Findings as one JSON document: `{"template", "errors", "warnings", "findings": [...]}`,
/// each finding with `id`, `severity`, `resource`, `path`, `message` and `fix`.
pub fn to_json(template: &str, findings: &[Finding]) -> String {
    let (errors, warnings) = counts(findings);
    let document = json!({
        "template": template,
        "errors": errors,
        "warnings": warnings,
        "findings": findings,
    });
    let mut text = format!("{document:#}");
    text.push('\n');
    text
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Finding> {
        vec![
            Finding::error(
                "CIB012",
                Some("ApiImage"),
                "Resources.ApiImage.Properties.ReplicaRegions[0]",
                "replica region equals the stack's region",
                "remove us-east-1 from ReplicaRegions",
            ),
            Finding::warning("CIB030", None, "Resources", "big", ""),
        ]
    }

    #[test]
    fn text_lists_each_finding_then_a_summary() {
        let text = to_text("t.yaml", &sample());
        assert!(text.contains(
            "t.yaml: error[CIB012] Resources.ApiImage.Properties.ReplicaRegions[0]: replica"
        ));
        assert!(text.contains("fix: remove us-east-1"));
        assert!(text.ends_with("t.yaml: 1 error, 1 warning\n"), "{text}");
    }

    #[test]
    fn json_is_one_document_with_ids_and_paths() {
        let value: serde_json::Value =
            serde_json::from_str(&to_json("t.yaml", &sample())).expect("valid JSON");
        assert_eq!(value["errors"], 1);
        assert_eq!(value["warnings"], 1);
        assert_eq!(value["findings"][0]["id"], "CIB012");
        assert_eq!(
            value["findings"][0]["path"],
            "Resources.ApiImage.Properties.ReplicaRegions[0]"
        );
        assert_eq!(value["findings"][1]["severity"], "warning");
    }

    #[test]
    fn parse_errors_are_cib001_at_line_and_column() {
        let error = cib_engine::template::parse(b"a: [1, 2\n").expect_err("bad YAML");
        let finding = parse_error_finding(&error);
        assert_eq!(finding.id, "CIB001");
        assert!(finding.is_error());
        assert!(finding.path.starts_with("line "), "{}", finding.path);
        assert!(finding.path.contains(", column "), "{}", finding.path);
    }
}
