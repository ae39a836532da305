//! Multi-platform images (`Platform: [linux/amd64, linux/arm64]`): one trigger per
//! platform, each an ordinary single-platform build on its own architecture's project, and
//! the user's logical ID kept as the index resource that writes the OCI image index over
//! them (docs/expansion.md, *Multi-platform images*).
//!
//! The platform triggers are `<Id>Amd64` and `<Id>Arm64`: copies of the image's resource
//! with one platform each, pushing into the image's own repository. The index resource
//! names each platform's `ImageTag` and `ImageDigest` with `Fn::GetAtt`, so CloudFormation
//! calls it once every platform is built, and fails on the first platform that fails.

use serde_json::{Map, Value, json};

use super::ids;
use super::repository;
use crate::platform::Platform;
use crate::spec::ImageSpec;

/// `ServiceTimeout` of an index resource: reading two manifests and writing the index at
/// home and in each replica region takes seconds.
pub const INDEX_SERVICE_TIMEOUT_SECONDS: u32 = 300;

/// The platforms of a resource whose `Platform` is a literal list of two or more known
/// platforms, in the order written; `None` for a single platform (a string, or a list of
/// one) or anything the schema will report.
pub fn platforms(resource: &Value) -> Option<Vec<Platform>> {
    let items = resource.pointer("/Properties/Platform")?.as_array()?;
    let platforms: Option<Vec<Platform>> = items
        .iter()
        .map(|item| item.as_str().and_then(Platform::parse))
        .collect();
    let platforms = platforms?;
    let mut distinct = platforms.clone();
    distinct.sort();
    distinct.dedup();
    (platforms.len() >= 2 && distinct.len() == platforms.len()).then_some(platforms)
}

/// The logical ID of the trigger that builds `platform` of image `parent`.
pub fn platform_id(parent: &str, platform: Platform) -> String {
    format!("{parent}{}", platform.id_suffix())
}

/// The resource of the trigger that builds `platform` of image `parent` (as the user
/// would write it): the image's properties with that one platform, pushing into the
/// image's repository `<parent>Repository`. `Condition`, `DependsOn` and `Metadata` carry
/// over; deletion policies belong to the repository and the index resource.
pub fn platform_resource(parent: &str, resource: &Value, platform: Platform) -> Value {
    let mut out = Map::new();
    for key in ["Type", "Condition", "DependsOn", "Metadata"] {
        if let Some(value) = resource.get(key) {
            out.insert(key.into(), value.clone());
        }
    }
    let mut properties = resource
        .get("Properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    properties.insert("Platform".into(), platform.to_value());
    properties.insert(
        "Repository".into(),
        json!({"ExistingRepositoryName": {"Ref": ids::repository(parent)}}),
    );
    out.insert("Properties".into(), Value::Object(properties));
    Value::Object(out)
}

/// A single-platform resource for parsing the image itself (its repository, tag prefix,
/// replicas and attributes): the first platform stands for the list.
pub fn as_single(resource: &Value, platforms: &[Platform]) -> Value {
    let mut out = resource.clone();
    if let (Some(Value::Object(properties)), Some(first)) =
        (out.get_mut("Properties"), platforms.first())
    {
        properties.insert("Platform".into(), first.to_value());
    }
    out
}

/// The index resource, under the image's own logical ID.
pub fn index_resource(
    image: &ImageSpec,
    platforms: &[Platform],
    service_token: &Value,
    original: &Map<String, Value>,
) -> Map<String, Value> {
    let repo = repository::refs(image);
    let mut p = Map::new();
    p.insert("ServiceToken".into(), service_token.clone());
    p.insert(
        "ServiceTimeout".into(),
        json!(INDEX_SERVICE_TIMEOUT_SECONDS.to_string()),
    );
    p.insert(
        "ContractVersion".into(),
        json!(super::trigger::CONTRACT_VERSION),
    );
    p.insert("RepositoryName".into(), repo.name);
    p.insert("RepositoryUri".into(), repo.uri);
    p.insert("RepositoryArn".into(), repo.arn);
    if let Some(prefix) = &image.image_tag_prefix {
        p.insert("ImageTagPrefix".into(), prefix.clone());
    }
    p.insert("ReplicaRegions".into(), json!(image.replica_regions));
    let manifests: Vec<Value> = platforms
        .iter()
        .map(|platform| {
            let id = platform_id(&image.logical_id, *platform);
            json!({
                "Platform": platform.docker_name(),
                "ImageTag": {"Fn::GetAtt": [id, "ImageTag"]},
                "ImageDigest": {"Fn::GetAtt": [id, "ImageDigest"]}
            })
        })
        .collect();
    p.insert("Manifests".into(), Value::Array(manifests));
    super::trigger::resource_around(image, original, p, &[])
}
