//! Names the expansion gives to repositories: unique per stack instance, so a retained
//! repository never blocks a redeploy, and all under one namespace, so one repository
//! creation template (`deploy/support-stack.yaml`) covers every replica.
//!
//! ECR's rules for a repository name (CreateRepository, `repositoryName`): at most 256
//! characters matching `(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*`
//! (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html).
//! A logical ID is `[A-Za-z0-9]+`, so its lowercase form is one valid component; the stack
//! uuid is lowercase hex groups joined by `-`, also valid.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use cib_contract::{CACHE_REPOSITORY_NAMESPACE, REPOSITORY_NAMESPACE};

use crate::spec::{ImageSpec, RepositorySpec};

/// Longest part of a generated repository name taken from the logical ID; with the
/// namespace, the `-` and the 36-character stack uuid the name stays far under 256.
pub const MAX_ID_SEGMENT: usize = 150;

/// Characters of the hash that tells apart two images whose segments would be equal.
const HASH_CHARS: usize = 8;

/// Longest ECR image tag (`imageTag`, PutImage: 1 to 300 in the API, but Docker
/// clients and OCI distribution refuse tags over 128 characters:
/// `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`,
/// https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests).
pub const MAX_TAG_CHARS: usize = 128;

/// The stack's uuid, the last segment of its ARN: unique for every stack ever created.
pub fn stack_uuid() -> Value {
    json!({"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]})
}

/// `Fn::Sub` of `text` with `${StackUuid}` bound to [`stack_uuid`].
pub fn sub_with_stack_uuid(text: &str) -> Value {
    json!({"Fn::Sub": [text, {"StackUuid": stack_uuid()}]})
}

/// The ID segment of an image's generated repository name: its logical ID lowercased
/// and cut to [`MAX_ID_SEGMENT`]; when another image of `images` that also gets a
/// generated name has the same segment (IDs that differ only in case, or share their
/// first 150 characters), the segment ends in a hash of the exact logical ID instead.
pub fn repository_segment(image: &ImageSpec, images: &[ImageSpec]) -> String {
    let own = plain_segment(&image.logical_id);
    let shared = images.iter().any(|other| {
        other.logical_id != image.logical_id
            && has_generated_name(other)
            && plain_segment(&other.logical_id) == own
    });
    if !shared {
        return own;
    }
    let digest = hex::encode(Sha256::digest(image.logical_id.as_bytes()));
    let keep = MAX_ID_SEGMENT - HASH_CHARS - 1;
    format!(
        "{}-{}",
        own.chars().take(keep).collect::<String>(),
        &digest[..HASH_CHARS]
    )
}

/// True when the image's repository is created by the template without a user name.
pub fn has_generated_name(image: &ImageSpec) -> bool {
    matches!(image.repository, RepositorySpec::Owned { name: None, .. })
}

fn plain_segment(logical_id: &str) -> String {
    logical_id
        .to_ascii_lowercase()
        .chars()
        .take(MAX_ID_SEGMENT)
        .collect()
}

/// The generated repository name `cib/<segment>-<stack uuid>`.
pub fn generated_repository_name(image: &ImageSpec, images: &[ImageSpec]) -> Value {
    sub_with_stack_uuid(&format!(
        "{REPOSITORY_NAMESPACE}/{}-${{StackUuid}}",
        repository_segment(image, images)
    ))
}

/// The pattern every generated repository name of this stack matches, in any region:
/// `cib/*-<stack uuid>` (for IAM resource ARNs).
pub fn generated_repository_pattern() -> String {
    format!("{REPOSITORY_NAMESPACE}/*-${{StackUuid}}")
}

/// The template's registry-cache repository name, `cib-cache/<stack uuid>`.
pub fn cache_repository_name() -> Value {
    sub_with_stack_uuid(&format!("{CACHE_REPOSITORY_NAMESPACE}/${{StackUuid}}"))
}

/// The image's tag in the cache repository: its logical ID, or, when that is longer
/// than a tag may be, its first 119 characters, `-` and a hash of the whole ID.
pub fn cache_tag(logical_id: &str) -> String {
    if logical_id.chars().count() <= MAX_TAG_CHARS {
        return logical_id.to_owned();
    }
    let digest = hex::encode(Sha256::digest(logical_id.as_bytes()));
    let keep = MAX_TAG_CHARS - HASH_CHARS - 1;
    format!(
        "{}-{}",
        logical_id.chars().take(keep).collect::<String>(),
        &digest[..HASH_CHARS]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_logical_id_gives_a_valid_cache_tag() {
        assert_eq!(cache_tag("Api"), "Api");
        let long = "A".repeat(200);
        let tag = cache_tag(&long);
        assert_eq!(tag.len(), MAX_TAG_CHARS);
        assert!(tag.starts_with(&"A".repeat(119)));
    }
}
