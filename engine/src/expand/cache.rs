//! The template's registry build cache: one repository of its own, outside the image
//! repositories, so the cache is never replicated (no replication filter of ours is a
//! prefix of `cib-cache/`), never scanned, and its moving tags never force the image
//! repositories to allow tags to move.

use serde_json::{Map, Value, json};

use super::ids;
use super::names;
use crate::spec::ImageSpec;

/// Lifecycle of the cache repository: untagged cache manifests (left behind when an
/// image's cache tag moves on) expire one day after push. Tagged ones are each image's
/// latest cache and stay.
pub const CACHE_LIFECYCLE_POLICY: &str = r#"{"rules":[{"rulePriority":1,"description":"Expire untagged cache manifests 1 day after push","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}]}"#;

/// True when the image's build may use the registry cache: not on CodeBuild's Docker
/// server (which keeps its own layer cache) and `CacheDisabled` not literally true. A
/// `CacheDisabled` that is an intrinsic may resolve either way, so it counts as a user.
pub fn uses_registry_cache(image: &ImageSpec) -> bool {
    if image.environment.docker_server {
        return false;
    }
    match &image.cache_disabled {
        None => true,
        Some(Value::Bool(disabled)) => !disabled,
        Some(Value::String(text)) => !text.eq_ignore_ascii_case("true"),
        Some(_) => true,
    }
}

/// True when some image of the template uses the registry cache.
pub fn needed(images: &[ImageSpec]) -> bool {
    images.iter().any(uses_registry_cache)
}

/// The cache repository resource. Deleted with the stack, images and all: a cache is
/// rebuilt by the next build, and a retained one would only cost storage.
pub fn resource() -> Map<String, Value> {
    let mut properties = Map::new();
    properties.insert("RepositoryName".into(), names::cache_repository_name());
    properties.insert("ImageTagMutability".into(), json!("MUTABLE"));
    properties.insert(
        "ImageScanningConfiguration".into(),
        json!({"ScanOnPush": false}),
    );
    properties.insert(
        "EncryptionConfiguration".into(),
        json!({"EncryptionType": "AES256"}),
    );
    properties.insert(
        "LifecyclePolicy".into(),
        json!({"LifecyclePolicyText": CACHE_LIFECYCLE_POLICY}),
    );
    properties.insert("EmptyOnDelete".into(), json!(true));
    let mut resource = Map::new();
    resource.insert("Type".into(), json!("AWS::ECR::Repository"));
    resource.insert("DeletionPolicy".into(), json!("Delete"));
    resource.insert("UpdateReplacePolicy".into(), json!("Delete"));
    resource.insert("Properties".into(), Value::Object(properties));
    resource
}

/// The trigger's `CacheImageRef`: `<cache repository uri>:<tag of the image>`, or `None`
/// when the image does not use the registry cache.
pub fn image_ref(image: &ImageSpec) -> Option<Value> {
    uses_registry_cache(image).then(|| {
        json!({"Fn::Sub": format!(
            "${{{}.RepositoryUri}}:{}",
            ids::CACHE,
            names::cache_tag(&image.logical_id)
        )})
    })
}

/// The cache repository's ARN, for the role.
pub fn arn() -> Value {
    json!({"Fn::GetAtt": [ids::CACHE, "Arn"]})
}
