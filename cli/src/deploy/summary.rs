//! A change set as people read it.

use crate::aws::cfn::Change;

/// The changes, one per line, grouped as add / modify / remove, with replacements marked.
pub fn render(stack: &str, changes: &[Change]) -> String {
    let count = |action: &str| changes.iter().filter(|c| c.action == action).count();
    let mut out = format!(
        "Changes to stack {stack}: {} to add, {} to modify, {} to remove\n",
        count("Add"),
        count("Modify"),
        count("Remove")
    );
    let mut sorted: Vec<&Change> = changes.iter().collect();
    sorted.sort_by_key(|c| (order(&c.action), c.logical_id.clone()));
    for change in sorted {
        let sign = match change.action.as_str() {
            "Add" => "+",
            "Remove" => "-",
            "Modify" => "~",
            _ => "?",
        };
        let replacement = match change.replacement.as_deref() {
            Some("True") => "  (replacement)",
            Some("Conditional") => "  (may be replaced)",
            _ => "",
        };
        out.push_str(&format!(
            "  {sign} {:<40} {}{replacement}\n",
            change.logical_id, change.resource_type
        ));
    }
    out
}

fn order(action: &str) -> u8 {
    match action {
        "Add" => 0,
        "Modify" => 1,
        "Remove" => 2,
        _ => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(action: &str, id: &str, replacement: Option<&str>) -> Change {
        Change {
            action: action.into(),
            logical_id: id.into(),
            resource_type: "AWS::S3::Bucket".into(),
            replacement: replacement.map(str::to_owned),
        }
    }

    #[test]
    fn groups_and_marks_replacements() {
        let text = render(
            "demo",
            &[
                change("Remove", "Old", None),
                change("Modify", "Kept", Some("True")),
                change("Add", "New", None),
            ],
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines.first().copied(),
            Some("Changes to stack demo: 1 to add, 1 to modify, 1 to remove")
        );
        assert!(lines[1].trim_start().starts_with("+ New"));
        assert!(lines[2].contains("~ Kept") && lines[2].ends_with("(replacement)"));
        assert!(lines[3].trim_start().starts_with("- Old"));
    }
}
