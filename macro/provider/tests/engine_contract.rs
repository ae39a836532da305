//! The contract between the engine and the provider: every trigger the engine writes for
//! the samples, with its intrinsics resolved as CloudFormation would, is accepted by the
//! provider and gets an image tag.

use std::path::Path;

use cib_engine::{ExpandOptions, template};
use cib_provider::properties::TriggerProperties;
use cib_provider::tag::image_tag;
use cib_trigger::index::{IndexProperties, is_index};
use serde_json::{Map, Value};

/// Resolves intrinsics to plausible strings, the way CloudFormation hands resolved
/// properties to a custom resource (lists stay lists, everything else becomes text).
fn resolve(value: &Value) -> Value {
    match value {
        Value::Object(map) if map.len() == 1 => {
            let (key, arg) = map
                .iter()
                .next()
                .map(|(k, v)| (k.as_str(), v))
                .unwrap_or(("", value));
            match key {
                "Ref" => Value::String(format!(
                    "resolved-{}",
                    arg.as_str().unwrap_or("ref").to_lowercase()
                )),
                "Fn::GetAtt" => match arg.get(1).and_then(Value::as_str) {
                    Some("ImageDigest") => Value::String(format!("sha256:{}", "a".repeat(64))),
                    Some("ImageTag") => Value::String("resolved-tag".into()),
                    _ => Value::String(
                        "123456789012.dkr.ecr.us-east-1.amazonaws.com/resolved".into(),
                    ),
                },
                "Fn::Sub" | "Fn::Join" | "Fn::Select" | "Fn::ImportValue" | "Fn::If"
                | "Fn::Base64" => Value::String("resolved-text".into()),
                _ => Value::Object(map.iter().map(|(k, v)| (k.clone(), resolve(v))).collect()),
            }
        }
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), resolve(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(resolve).collect()),
        other => other.clone(),
    }
}

#[test]
fn every_sample_trigger_is_accepted_by_the_provider() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples");
    let mut triggers = 0;
    let mut indexes = 0;
    let entries = std::fs::read_dir(&samples).expect("samples dir");
    for entry in entries {
        let path = entry.expect("entry").path();
        let is_template = path.extension().is_some_and(|e| e == "yaml" || e == "json");
        if !is_template {
            continue;
        }
        let bytes = std::fs::read(&path).expect("read sample");
        let (value, _) = template::parse(&bytes).expect("sample parses");
        let options = ExpandOptions {
            region: Some("us-east-1".into()),
            ..ExpandOptions::default()
        };
        let outcome = cib_engine::expand(&value, &options);
        let expanded = outcome.template.unwrap_or_else(|| {
            panic!("{} does not expand: {:?}", path.display(), outcome.findings)
        });
        let resources = expanded["Resources"].as_object().expect("resources");
        for (id, resource) in resources {
            if resource["Type"] != "Custom::ContainerImageBuild" {
                continue;
            }
            let resolved = resolve(&resource["Properties"]);
            let props: &Map<String, Value> = resolved.as_object().expect("properties");
            if is_index(props) {
                let index = IndexProperties::parse(props).unwrap_or_else(|e| {
                    panic!(
                        "{} {id}: provider refuses the index resource: {e}",
                        path.display()
                    )
                });
                assert!(index.tag().is_ok(), "{id}");
                indexes += 1;
                continue;
            }
            let parsed = TriggerProperties::parse(props).unwrap_or_else(|e| {
                panic!("{} {id}: provider refuses the trigger: {e}", path.display())
            });
            let tag = image_tag(&parsed)
                .unwrap_or_else(|e| panic!("{} {id}: no tag: {e}", path.display()));
            assert!(!tag.is_empty());
            assert_eq!(
                parsed.replica_regions,
                resource["Properties"]["ReplicaRegions"]
                    .as_array()
                    .map(|r| r
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect::<Vec<_>>())
                    .unwrap_or_default(),
                "{id}"
            );
            triggers += 1;
        }
    }
    assert!(
        triggers >= 50,
        "only {triggers} triggers found in the samples"
    );
    assert!(indexes >= 1, "no multi-platform image in the samples");
}
