//! The ECR repository of one image: immutable tags and the safe lifecycle policy.
//!
//! Why a digest that a stack's resource points to is never expired: the only lifecycle
//! rule expires *untagged* images, and every image the provider pushes carries a tag
//! (`ImageUri`); with `IMMUTABLE` tags that tag can never be moved to another digest or
//! removed by a push, so the digest behind it stays tagged for as long as the repository
//! lives. The registry cache, whose tags do move, lives in a repository of its own
//! (`cache.rs`). A fixed `ImageTag` is the exception, see [`tag_mutability`].

use serde_json::{Map, Value, json};

use super::attributes::with_condition;
use super::ids;
use super::names;
use crate::spec::{ImageSpec, RepositorySpec};

/// The lifecycle policy of image repositories (the text lives in `cib-contract`).
pub use cib_contract::IMAGE_LIFECYCLE_POLICY as LIFECYCLE_POLICY;

/// How the trigger and the role refer to the image's repository.
#[derive(Debug, Clone)]
pub struct RepositoryRefs {
    /// Repository name.
    pub name: Value,
    /// Repository URI (`<registry>/<name>`).
    pub uri: Value,
    /// Repository ARN.
    pub arn: Value,
}

/// The image repository's tag mutability: `IMMUTABLE`, so a content tag once pushed
/// always names the same digest; `MUTABLE` only when the image sets a fixed `ImageTag`,
/// which the provider re-pushes on every rebuild. Then the previous digest loses its tag
/// and the lifecycle rule expires it once it is 30 days past its own push (which may be
/// the next day); a function deployed with it fails to start after that. Nothing in the
/// registry protects that digest: CIB032 warns when a Lambda function takes such an
/// image, and `ImageTagPrefix` (content tags) is the safe choice.
pub fn tag_mutability(image: &ImageSpec) -> &'static str {
    if image.image_tag.is_some() {
        "MUTABLE"
    } else {
        "IMMUTABLE"
    }
}

/// The repository resource for an image that owns its repository; `images` are all the
/// template's images (a generated name must differ from theirs).
pub fn resource(image: &ImageSpec, images: &[ImageSpec]) -> Option<Map<String, Value>> {
    let RepositorySpec::Owned {
        name,
        scan_on_push,
        kms_key_arn,
        empty_on_delete,
    } = &image.repository
    else {
        return None;
    };
    let mut properties = Map::new();
    let name = match name {
        Some(name) => name.clone(),
        None => names::generated_repository_name(image, images),
    };
    properties.insert("RepositoryName".into(), name);
    properties.insert(
        "ImageScanningConfiguration".into(),
        json!({"ScanOnPush": scan_on_push}),
    );
    let encryption = match kms_key_arn {
        Some(key) => json!({"EncryptionType": "KMS", "KmsKey": key}),
        None => json!({"EncryptionType": "AES256"}),
    };
    properties.insert("EncryptionConfiguration".into(), encryption);
    properties.insert("ImageTagMutability".into(), json!(tag_mutability(image)));
    properties.insert(
        "LifecyclePolicy".into(),
        json!({"LifecyclePolicyText": LIFECYCLE_POLICY}),
    );
    properties.insert("EmptyOnDelete".into(), empty_on_delete.clone());
    let mut resource = Map::new();
    resource.insert("Type".into(), json!("AWS::ECR::Repository"));
    let retain = json!("Retain");
    resource.insert(
        "DeletionPolicy".into(),
        image
            .attributes
            .deletion_policy
            .clone()
            .unwrap_or_else(|| retain.clone()),
    );
    resource.insert(
        "UpdateReplacePolicy".into(),
        image
            .attributes
            .update_replace_policy
            .clone()
            .unwrap_or(retain),
    );
    if let Some(depends_on) = &image.attributes.depends_on {
        resource.insert("DependsOn".into(), depends_on.clone());
    }
    resource.insert("Properties".into(), Value::Object(properties));
    Some(with_condition(resource, image))
}

/// Name, URI and ARN of the image's repository as template values.
pub fn refs(image: &ImageSpec) -> RepositoryRefs {
    match &image.repository {
        RepositorySpec::Owned { .. } => {
            let id = ids::repository(&image.logical_id);
            RepositoryRefs {
                name: json!({"Ref": id}),
                uri: json!({"Fn::GetAtt": [id, "RepositoryUri"]}),
                arn: json!({"Fn::GetAtt": [id, "Arn"]}),
            }
        }
        RepositorySpec::Existing { name } => RepositoryRefs {
            name: name.clone(),
            uri: json!({"Fn::Sub": [
                "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/${Name}",
                {"Name": name}
            ]}),
            arn: json!({"Fn::Sub": [
                "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/${Name}",
                {"Name": name}
            ]}),
        },
    }
}

/// ARN of the image's repository in every region (its replicas included).
pub fn any_region_arn(image: &ImageSpec) -> Value {
    json!({"Fn::Sub": [
        "arn:${AWS::Partition}:ecr:*:${AWS::AccountId}:repository/${Name}",
        {"Name": refs(image).name}
    ]})
}
