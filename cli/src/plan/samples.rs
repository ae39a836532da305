//! Over every sample (`samples/`): each image's tag is predicted, and it is the tag the
//! provider computes from the properties CloudFormation sends it, where every scalar is a
//! string (custom resource properties reach the provider as strings).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cib_engine::{Caller, ExpandOptions, Written};
use serde_json::{Map, Value};

use super::context::{Deployed, Place, context};
use super::images::{self, Presence};
use super::predict::Prediction;
use super::resolve::{Resolver, substitute};

const REGION: &str = "us-east-1";
const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/samples/0f6e7d2c-1a2b-4c3d-8e9f-001122334455";

/// Values for the samples' parameters that have no default.
fn parameter_values() -> BTreeMap<String, String> {
    [
        ("SourceBucket", "sources"),
        ("VpcId", "vpc-0123456789abcdef0"),
        ("PrivateSubnetIds", "subnet-01,subnet-02"),
        (
            "DockerHubCredentialArn",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:hub-AbCdEf",
        ),
        (
            "GithubCredentialArn",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:gh-AbCdEf",
        ),
        (
            "PrivateRegistrySecretArn",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:reg-AbCdEf",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn samples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "json")
            )
        })
        .collect();
    found.sort();
    assert!(found.len() >= 8, "samples missing: {found:?}");
    found
}

/// A value as CloudFormation passes it to a custom resource: scalars as strings.
fn as_sent(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, c)| (k.clone(), as_sent(c))).collect()),
        Value::Array(items) => Value::Array(items.iter().map(as_sent).collect()),
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(b) => Value::String(b.to_string()),
        other => other.clone(),
    }
}

#[test]
fn every_samples_tag_is_predicted_and_is_the_providers() {
    let values = parameter_values();
    let mut checked = 0;
    let mut unknown = 0;
    let mut tarballs = 0;
    for sample in samples() {
        let name = sample.display().to_string();
        let bytes = std::fs::read(&sample).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (template, _) =
            cib_engine::template::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let options = ExpandOptions {
            caller: Caller::Cli,
            region: Some(REGION.to_owned()),
            parameters: values
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect::<Map<String, Value>>(),
            provider_arn: None,
            written: Written::PrettyJson,
        };
        let outcome = cib_engine::expand(&template, &options);
        let expanded = outcome
            .template
            .unwrap_or_else(|| panic!("{name} does not expand: {:?}", outcome.findings));
        // A stack where every resource of the template exists.
        let physical_ids = expanded["Resources"]
            .as_object()
            .map(|m| {
                m.keys()
                    .map(|id| (id.clone(), format!("cib/{}-0f6e7d2c", id.to_lowercase())))
                    .collect()
            })
            .unwrap_or_default();
        let deployed = Deployed {
            stack_id: STACK_ID.to_owned(),
            parameters: BTreeMap::new(),
            physical_ids,
        };
        let place = Place {
            stack_name: "samples",
            region: REGION,
            account: "123456789012",
        };
        let ctx = context(&expanded, &values, &place, Some(&deployed));
        let resolved_images = images::resolve(&expanded, &ctx);
        // Each platform image's predicted tag, which CloudFormation hands an index resource.
        let platform_tags: Map<String, Value> = resolved_images
            .iter()
            .filter_map(|i| match &i.prediction {
                Prediction::Tag { tag, .. } => {
                    Some((i.logical_id.clone(), Value::String(tag.clone())))
                }
                _ => None,
            })
            .collect();
        for image in resolved_images {
            let id = format!("{name}: {}", image.logical_id);
            if image.presence == Presence::Absent {
                continue;
            }
            let tag = match &image.prediction {
                Prediction::Tag { tag, .. } => tag,
                // Only an attribute CloudFormation reports during the deploy may hide a tag.
                // A tarball's tag is its manifest digest, read during the deploy.
                Prediction::Unknown { paths }
                    if paths
                        .iter()
                        .all(|(p, i)| (p.as_str(), *i) == super::predict::TARBALL_DIGEST) =>
                {
                    tarballs += 1;
                    continue;
                }
                Prediction::Unknown { paths } => {
                    for (path, index) in paths {
                        let cause = image.cause(*index).map(|c| c.intrinsic.clone());
                        assert!(
                            cause
                                .as_deref()
                                .is_some_and(|c| c.starts_with("Fn::GetAtt ")),
                            "{id}: {path} is unknown because of {cause:?}"
                        );
                    }
                    unknown += 1;
                    continue;
                }
                Prediction::Refused { message } => panic!("{id}: refused: {message}"),
            };
            // The provider's side: the trigger's properties resolved, as sent.
            let mut raw = expanded["Resources"][&image.logical_id]["Properties"].clone();
            if let Some(Value::Array(manifests)) = raw.get_mut("Manifests") {
                for entry in manifests {
                    let child = entry["ImageTag"]["Fn::GetAtt"][0]
                        .as_str()
                        .unwrap_or_default();
                    entry["ImageTag"] = platform_tags
                        .get(child)
                        .cloned()
                        .unwrap_or_else(|| panic!("{id}: no predicted tag for {child}"));
                }
            }
            let mut resolver = Resolver::new(&expanded, &ctx);
            let resolved = resolver.resolve(&raw).unwrap_or_default();
            // Values CloudFormation fills in during the deploy (the tag reads none of them,
            // or the plan would not have predicted it): any value will do.
            // An index resource checks its platforms' digests for shape: fill in digests.
            let index = resolved.get("Manifests").is_some();
            let filled = substitute(&resolved, &|i| {
                if index {
                    format!("sha256:{i:064x}")
                } else {
                    format!("deploy-time-value-{i}")
                }
            });
            let sent = as_sent(&filled);
            let props: Map<String, Value> = sent.as_object().cloned().unwrap_or_default();
            let provider = if index {
                cib_trigger::index::IndexProperties::parse(&props).and_then(|p| p.tag())
            } else {
                cib_trigger::TriggerProperties::parse(&props)
                    .and_then(|p| cib_trigger::image_tag(&p))
            }
            .unwrap_or_else(|e| panic!("{id}: the provider refuses: {e}"));
            assert_eq!(tag, &provider, "{id}");
            checked += 1;
        }
    }
    assert!(checked >= 55, "only {checked} images checked");
    assert!(unknown <= 2, "{unknown} images with a deploy-time tag");
    assert!(
        tarballs >= 1,
        "the tarball sample's image is reported as tagged at deploy"
    );
}
