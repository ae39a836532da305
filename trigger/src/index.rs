//! A multi-platform image's index resource: its resolved properties and its tag.
//!
//! Each platform is built by a trigger of its own (a single-platform image, with its own
//! content tag); the index resource receives each platform's `ImageTag` and `ImageDigest`
//! as resolved attributes, so CloudFormation's dependency graph is the join: it calls the
//! index resource only once every platform has answered SUCCESS, and fails the stack with
//! the failing platform's own reason otherwise.
//!
//! The index tag is one hash over every platform's content tag, each of which is a hash
//! over that platform's build inputs: canonical form (version 1)
//! `{"index":{"linux/amd64":"<tag>","linux/arm64":"<tag>"},"v":1}`, keys sorted.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::error::PropertyError;
use crate::properties::{optional, required, string_list};
use crate::tag::MAX_TAG_LEN;

/// The platforms an index may name.
pub const PLATFORMS: &[&str] = &["linux/amd64", "linux/arm64"];

/// One platform's manifest, as its trigger answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformManifest {
    /// `linux/amd64` or `linux/arm64`.
    pub platform: String,
    /// The platform image's content tag.
    pub image_tag: String,
    /// The platform image's manifest digest (`sha256:<64 hex>`).
    pub image_digest: String,
}

impl PlatformManifest {
    /// The short architecture name used in attribute names (`amd64`, `arm64`).
    pub fn architecture(&self) -> &str {
        self.platform.rsplit('/').next().unwrap_or(&self.platform)
    }
}

/// The index resource's properties, resolved by CloudFormation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexProperties {
    /// Repository name.
    pub repository_name: String,
    /// Repository URI (`<registry>/<name>`).
    pub repository_uri: String,
    /// Repository ARN.
    pub repository_arn: String,
    /// A prefix before the index hash.
    pub image_tag_prefix: Option<String>,
    /// Replica regions (the platform manifests are already there).
    pub replica_regions: Vec<String>,
    /// One manifest per platform, in platform order.
    pub manifests: Vec<PlatformManifest>,
}

/// Whether the properties are an index resource's (they list `Manifests`).
pub fn is_index(props: &Map<String, Value>) -> bool {
    props.contains_key("Manifests")
}

fn digest_ok(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    })
}

impl IndexProperties {
    /// Reads and checks the index resource's properties.
    pub fn parse(props: &Map<String, Value>) -> Result<IndexProperties, PropertyError> {
        let Some(Value::Array(items)) = props.get("Manifests") else {
            return Err(PropertyError::new(
                "Manifests",
                "must be a list of {Platform, ImageTag, ImageDigest}",
            ));
        };
        let mut by_platform = BTreeMap::new();
        for (i, item) in items.iter().enumerate() {
            let path = format!("Manifests[{i}]");
            let Value::Object(m) = item else {
                return Err(PropertyError::new(path, "must be an object"));
            };
            let manifest = PlatformManifest {
                platform: required(m, "Platform").map_err(|e| e.under(&path))?,
                image_tag: required(m, "ImageTag").map_err(|e| e.under(&path))?,
                image_digest: required(m, "ImageDigest").map_err(|e| e.under(&path))?,
            };
            if !PLATFORMS.contains(&manifest.platform.as_str()) {
                return Err(PropertyError::new(
                    format!("{path}.Platform"),
                    "must be linux/amd64 or linux/arm64",
                ));
            }
            if !digest_ok(&manifest.image_digest) {
                return Err(PropertyError::new(
                    format!("{path}.ImageDigest"),
                    format!("`{}` is not a sha256 digest", manifest.image_digest),
                ));
            }
            if by_platform
                .insert(manifest.platform.clone(), manifest)
                .is_some()
            {
                return Err(PropertyError::new(
                    format!("{path}.Platform"),
                    "names a platform twice",
                ));
            }
        }
        if by_platform.len() < 2 {
            return Err(PropertyError::new(
                "Manifests",
                "must name at least two platforms (one platform needs no index)",
            ));
        }
        Ok(IndexProperties {
            repository_name: required(props, "RepositoryName")?,
            repository_uri: required(props, "RepositoryUri")?,
            repository_arn: required(props, "RepositoryArn")?,
            image_tag_prefix: optional(props, "ImageTagPrefix")?,
            replica_regions: string_list(props, "ReplicaRegions")?,
            manifests: by_platform.into_values().collect(),
        })
    }

    /// The canonical text hashed into the index tag.
    pub fn canonical_inputs(&self) -> String {
        let tags: BTreeMap<&str, &str> = self
            .manifests
            .iter()
            .map(|m| (m.platform.as_str(), m.image_tag.as_str()))
            .collect();
        // BTreeMap keys serialize sorted; no other key than `index` and `v`.
        format!("{{\"index\":{},\"v\":1}}", json!(tags))
    }

    /// The index tag: `ImageTagPrefix` + the hash over every platform's content tag.
    pub fn tag(&self) -> Result<String, PropertyError> {
        let hash = hex::encode(Sha256::digest(self.canonical_inputs().as_bytes()));
        let tag = format!("{}{hash}", self.image_tag_prefix.as_deref().unwrap_or(""));
        let valid = tag.chars().enumerate().all(|(i, c)| {
            c.is_ascii_alphanumeric() || c == '_' || (i > 0 && (c == '.' || c == '-'))
        });
        if tag.len() > MAX_TAG_LEN || !valid {
            return Err(PropertyError::new(
                "ImageTagPrefix",
                format!("gives the tag `{tag}`, which ECR refuses"),
            ));
        }
        Ok(tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn props(manifests: Value) -> Map<String, Value> {
        let Value::Object(m) = json!({
            "RepositoryName": "web",
            "RepositoryUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/web",
            "RepositoryArn": "arn:aws:ecr:us-east-1:123456789012:repository/web",
            "ImageTagPrefix": "web-",
            "Manifests": manifests
        }) else {
            unreachable!()
        };
        m
    }

    fn two(tag_a: &str, tag_b: &str) -> Value {
        json!([
            {"Platform": "linux/arm64", "ImageTag": tag_b, "ImageDigest": B},
            {"Platform": "linux/amd64", "ImageTag": tag_a, "ImageDigest": A}
        ])
    }

    #[test]
    fn the_tag_is_one_hash_over_every_platform_and_ignores_order() {
        let p = IndexProperties::parse(&props(two("ta", "tb"))).expect("parse");
        assert_eq!(p.manifests[0].platform, "linux/amd64", "platform order");
        assert_eq!(p.manifests[0].architecture(), "amd64");
        assert_eq!(
            p.canonical_inputs(),
            r#"{"index":{"linux/amd64":"ta","linux/arm64":"tb"},"v":1}"#
        );
        let tag = p.tag().expect("tag");
        assert!(tag.starts_with("web-") && tag.len() == 68, "{tag}");
        let reordered = json!([
            {"Platform": "linux/amd64", "ImageTag": "ta", "ImageDigest": A},
            {"Platform": "linux/arm64", "ImageTag": "tb", "ImageDigest": B}
        ]);
        let same = IndexProperties::parse(&props(reordered)).expect("parse");
        assert_eq!(same.tag().ok(), Some(tag.clone()));
        let changed = IndexProperties::parse(&props(two("ta", "tc"))).expect("parse");
        assert_ne!(
            changed.tag().ok(),
            Some(tag),
            "one platform's change changes the index tag"
        );
    }

    #[test]
    fn bad_manifests_are_refused_with_their_path() {
        for (manifests, path) in [
            (json!("x"), "Manifests"),
            (
                json!([{"Platform": "linux/amd64", "ImageTag": "t", "ImageDigest": A}]),
                "Manifests",
            ),
            (
                json!([{"Platform": "linux/amd64", "ImageTag": "t", "ImageDigest": A},
                       {"Platform": "linux/amd64", "ImageTag": "u", "ImageDigest": B}]),
                "Manifests[1].Platform",
            ),
            (
                json!([{"Platform": "linux/s390x", "ImageTag": "t", "ImageDigest": A}]),
                "Manifests[0].Platform",
            ),
            (
                json!([{"Platform": "linux/amd64", "ImageTag": "t", "ImageDigest": "sha256:zz"}]),
                "Manifests[0].ImageDigest",
            ),
            (
                json!([{"Platform": "linux/amd64", "ImageDigest": A}]),
                "Manifests[0].ImageTag",
            ),
        ] {
            let e = IndexProperties::parse(&props(manifests.clone())).expect_err("refused");
            assert!(
                e.to_string().starts_with(&format!("property {path}:")),
                "{manifests}: {e}"
            );
        }
    }
}
