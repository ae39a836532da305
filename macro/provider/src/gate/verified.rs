//! The record of what the gate verified, so an update rollback never depends on which
//! template `GetTemplate` returns while it runs.
//!
//! After a request's properties matched the stack's template, the provider records a digest
//! of them per stack and logical id in the state table (the last [`KEEP`]). An update
//! rollback sends the properties of the deploy before, which the gate verified then; when
//! the template does not match them during `UPDATE_ROLLBACK_IN_PROGRESS`, a recorded digest
//! does. Only the provider writes the state table. Pure: the caller reads and writes it.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// How many verified property sets are kept per resource.
pub const KEEP: usize = 5;

/// The state-table key of the record of `logical_id` in stack `stack_id`.
pub fn record_key(stack_id: &str, logical_id: &str) -> String {
    format!("verified#{stack_id}#{logical_id}")
}

/// A digest of `properties`, independent of key order.
pub fn properties_digest(properties: &Map<String, Value>) -> String {
    let canonical = canonical(&Value::Object(properties.clone()));
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&m[k])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

/// The record after verifying `digest`: it first, then the earlier ones, at most [`KEEP`].
pub fn remember(record: Option<&str>, digest: &str) -> String {
    let mut kept = vec![digest];
    kept.extend(
        record
            .unwrap_or_default()
            .lines()
            .filter(|d| !d.is_empty() && *d != digest)
            .take(KEEP - 1),
    );
    kept.join("\n")
}

/// Whether `record` holds `digest`.
pub fn holds(record: &str, digest: &str) -> bool {
    record.lines().any(|d| d == digest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_digest_ignores_key_order_and_the_record_keeps_the_latest() {
        let a = json!({"B": "1", "A": {"y": [1, 2], "x": true}});
        let b = json!({"A": {"x": true, "y": [1, 2]}, "B": "1"});
        let (Value::Object(a), Value::Object(b)) = (a, b) else {
            panic!("objects")
        };
        assert_eq!(properties_digest(&a), properties_digest(&b));
        let mut record = None;
        let mut text = String::new();
        for d in ["d1", "d2", "d3", "d4", "d5", "d6", "d2"] {
            text = remember(record.as_deref(), d);
            record = Some(text.clone());
        }
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            ["d2", "d6", "d5", "d4", "d3"]
        );
        assert!(holds(&text, "d4") && !holds(&text, "d1"));
    }
}
