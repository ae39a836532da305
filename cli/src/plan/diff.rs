//! What changed between two resolved property maps, leaf by leaf, as people read it:
//! `BuildArgs.VERSION: "1.2" -> "1.3"`, `Source.S3Key changed (new context)`.

use serde_json::Value;

/// One changed leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The property path, e.g. `BuildArgs.VERSION`.
    pub path: String,
    /// The change in words.
    pub text: String,
}

/// Longest value shown in a change; longer ones are just "changed".
const SHOWN: usize = 60;

/// The leaves of `new` that differ from `old` under `path` (either side may be absent).
pub fn changes(path: &str, old: Option<&Value>, new: Option<&Value>, out: &mut Vec<Change>) {
    match (old, new) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                changes(&format!("{path}.{k}"), a.get(k), b.get(k), out);
            }
        }
        (Some(a), Some(b)) if a == b => {}
        (a, b) => out.push(Change {
            path: path.to_owned(),
            text: describe(path, a, b),
        }),
    }
}

fn shown(v: &Value) -> Option<String> {
    let text = v.to_string();
    (text.chars().count() <= SHOWN && !text.contains("\\n")).then_some(text)
}

fn describe(path: &str, old: Option<&Value>, new: Option<&Value>) -> String {
    match (old, new) {
        (None, Some(b)) => match shown(b) {
            Some(t) => format!("{path}: added {t}"),
            None => format!("{path} added"),
        },
        (Some(a), None) => match shown(a) {
            Some(t) => format!("{path}: removed (was {t})"),
            None => format!("{path} removed"),
        },
        _ if path == "Source.S3Key" || path == "Source.S3ObjectVersion" => {
            format!("{path} changed (new context)")
        }
        (Some(a), Some(b)) => match (shown(a), shown(b)) {
            (Some(x), Some(y)) => format!("{path}: {x} -> {y}"),
            _ => format!("{path} changed"),
        },
        (None, None) => format!("{path} changed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn texts(old: Value, new: Value) -> Vec<String> {
        let mut out = Vec::new();
        for k in ["BuildArgs", "Source", "Dockerfile"] {
            changes(k, old.get(k), new.get(k), &mut out);
        }
        out.into_iter().map(|c| c.text).collect()
    }

    #[test]
    fn changes_read_by_path() {
        assert_eq!(
            texts(
                json!({"BuildArgs": {"VERSION": "1.2", "OLD": "x"}, "Source": {"S3Bucket": "b", "S3Key": "a.zip"}}),
                json!({"BuildArgs": {"VERSION": "1.3", "NEW": "y"}, "Source": {"S3Bucket": "b", "S3Key": "c.zip"}, "Dockerfile": "x".repeat(80)})
            ),
            vec![
                r#"BuildArgs.NEW: added "y""#,
                r#"BuildArgs.OLD: removed (was "x")"#,
                r#"BuildArgs.VERSION: "1.2" -> "1.3""#,
                "Source.S3Key changed (new context)",
                "Dockerfile added",
            ]
        );
    }
}
