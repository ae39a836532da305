//! The ECR repository of one image, with the safe lifecycle policy.

use serde_json::{Map, Value, json};

use super::attributes::with_condition;
use super::ids;
use crate::spec::{ImageSpec, RepositorySpec};

/// The lifecycle policy: untagged images expire 30 days after push; a tagged image is
/// never expired, because Lambda pins images by digest and a count rule would break the
/// next update or rollback of a function that still uses one.
pub const LIFECYCLE_POLICY: &str = r#"{"rules":[{"rulePriority":1,"description":"Expire untagged images 30 days after push; tagged images are never expired","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":30},"action":{"type":"expire"}}]}"#;

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

/// The repository resource for an image that owns its repository.
pub fn resource(image: &ImageSpec) -> Option<Map<String, Value>> {
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
    if let Some(name) = name {
        properties.insert("RepositoryName".into(), name.clone());
    }
    properties.insert(
        "ImageScanningConfiguration".into(),
        json!({"ScanOnPush": scan_on_push}),
    );
    let encryption = match kms_key_arn {
        Some(key) => json!({"EncryptionType": "KMS", "KmsKey": key}),
        None => json!({"EncryptionType": "AES256"}),
    };
    properties.insert("EncryptionConfiguration".into(), encryption);
    properties.insert("ImageTagMutability".into(), json!("MUTABLE"));
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

/// ARN of the image's repository in another region (a replica).
pub fn replica_arn(image: &ImageSpec, region: &str) -> Value {
    json!({"Fn::Sub": [
        "arn:${AWS::Partition}:ecr:${Region}:${AWS::AccountId}:repository/${Name}",
        {"Region": region, "Name": refs(image).name}
    ]})
}
