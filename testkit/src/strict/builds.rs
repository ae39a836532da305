//! CodeBuild's record of a build, which moto does not keep.
//!
//! moto runs no build: `BatchGetBuilds` reports every build it started as SUCCEEDED, without
//! the environment variables it was started with, and knows no build it did not start. A
//! test that plays CodeBuild's side of a `CodeBuild Build State Change` (the build ended
//! FAILED in its BUILD phase, with these variables) declares the build as CodeBuild would
//! report it ([`super::StrictProxy::declare_build`]); the proxy then answers
//! `BatchGetBuilds` for that id with it. Undeclared builds keep moto's answer.

use std::collections::BTreeMap;

use serde_json::Value;

/// Declared builds: build id (`project:uuid`) to the build as `BatchGetBuilds` reports it.
pub type Declared = BTreeMap<String, Value>;

/// moto's `BatchGetBuilds` answer with the declared builds among the requested ids put in
/// (replacing moto's entry for the same id, and no longer "not found"); `None` when no
/// requested id was declared.
pub fn answer(request: &Value, moto: &Value, declared: &Declared) -> Option<Value> {
    let ids: Vec<&str> = super::array(request, "ids")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let ours: Vec<(&str, &Value)> = ids
        .iter()
        .filter_map(|id| declared.get(*id).map(|b| (*id, b)))
        .collect();
    if ours.is_empty() {
        return None;
    }
    let mut builds: Vec<Value> = super::array(moto, "builds")
        .iter()
        .filter(|b| {
            !ours
                .iter()
                .any(|(id, _)| b.get("id").and_then(Value::as_str) == Some(*id))
        })
        .cloned()
        .collect();
    builds.extend(ours.iter().map(|(_, b)| (*b).clone()));
    let not_found: Vec<Value> = super::array(moto, "buildsNotFound")
        .iter()
        .filter(|id| !ours.iter().any(|(ours, _)| id.as_str() == Some(*ours)))
        .cloned()
        .collect();
    Some(serde_json::json!({"builds": builds, "buildsNotFound": not_found}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_declared_build_replaces_what_moto_says() {
        let declared = Declared::from([(
            "p:1".to_string(),
            json!({"id": "p:1", "buildStatus": "FAILED"}),
        )]);
        let moto = json!({"builds": [{"id": "p:1", "buildStatus": "SUCCEEDED"},
                                     {"id": "p:2", "buildStatus": "SUCCEEDED"}],
                          "buildsNotFound": []});
        let v = answer(&json!({"ids": ["p:1", "p:2"]}), &moto, &declared).expect("declared");
        assert_eq!(v["builds"].as_array().map(Vec::len), Some(2));
        assert!(
            v["builds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|b| b["buildStatus"] == "FAILED")
        );
        let unknown = json!({"builds": [], "buildsNotFound": ["p:1"]});
        let v = answer(&json!({"ids": ["p:1"]}), &unknown, &declared).expect("declared");
        assert_eq!(v["buildsNotFound"], json!([]));
        assert_eq!(answer(&json!({"ids": ["p:3"]}), &moto, &declared), None);
    }
}
