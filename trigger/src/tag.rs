//! The image tag: SHA-256 over the resolved build inputs in a canonical form.
//!
//! Canonical form (version 1): a JSON object, keys sorted by byte order at every level, no
//! whitespace, UTF-8, absent or empty optional values left out:
//!
//! ```text
//! {"buildArgs":{..},"compression":"gzip","dockerfile":"Dockerfile",
//!  "installCommands":[..],"platform":"linux/amd64","preBuildCommands":[..],
//!  "source":{"s3Bucket":..,"s3Key":..,"s3ObjectVersion":..} | {"inlineDockerfile":..},
//!  "target":"..","v":1}
//! ```
//!
//! Property order in the template, and the order CloudFormation sends map keys in, do not
//! change the tag; any change of a value does.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::error::PropertyError;
use crate::properties::{Source, TriggerProperties};

/// ECR's longest tag.
pub const MAX_TAG_LEN: usize = 128;

/// The canonical JSON text hashed into the tag.
pub fn canonical_inputs(p: &TriggerProperties) -> String {
    let mut m = Map::new();
    m.insert("v".into(), json!(1));
    let source = match &p.source {
        Source::S3 {
            bucket,
            key,
            version,
        } => {
            let mut s = Map::new();
            s.insert("s3Bucket".into(), json!(bucket));
            s.insert("s3Key".into(), json!(key));
            if let Some(v) = version {
                s.insert("s3ObjectVersion".into(), json!(v));
            }
            s
        }
        Source::Inline { dockerfile } => {
            let mut s = Map::new();
            s.insert("inlineDockerfile".into(), json!(dockerfile));
            s
        }
        // Not used for a tag (a tarball is tagged by its manifest digest, [`tarball_tag`]);
        // kept distinct from a build context so the two can never hash alike.
        Source::ImageTarball {
            bucket,
            key,
            version,
        } => {
            let mut s = Map::new();
            s.insert("imageTarballS3Bucket".into(), json!(bucket));
            s.insert("imageTarballS3Key".into(), json!(key));
            if let Some(v) = version {
                s.insert("imageTarballS3ObjectVersion".into(), json!(v));
            }
            s
        }
    };
    m.insert("source".into(), Value::Object(source));
    m.insert("dockerfile".into(), json!(p.dockerfile));
    if let Some(t) = &p.target {
        m.insert("target".into(), json!(t));
    }
    m.insert("buildArgs".into(), json!(p.build_args));
    m.insert("platform".into(), json!(p.platform));
    m.insert("installCommands".into(), json!(p.install_commands));
    m.insert("preBuildCommands".into(), json!(p.pre_build_commands));
    m.insert("compression".into(), json!(p.compression));
    let mut out = String::new();
    write_canonical(&Value::Object(m), &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                if let Some(child) = m.get(*k) {
                    write_canonical(child, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The hex SHA-256 of the canonical inputs.
pub fn content_hash(p: &TriggerProperties) -> String {
    hex::encode(Sha256::digest(canonical_inputs(p).as_bytes()))
}

/// The tag the image gets: `ImageTag` if fixed, else `ImageTagPrefix` + the content hash.
pub fn image_tag(p: &TriggerProperties) -> Result<String, PropertyError> {
    tag_from(p, &content_hash(p))
}

/// The content tag of a build: `ImageTagPrefix` + the content hash, whatever `ImageTag`
/// says. An image with a fixed `ImageTag` is pushed under both, so the digest a stack once
/// pointed at stays tagged when the fixed tag moves on, and a rollback finds it.
pub fn content_tag(p: &TriggerProperties) -> Result<String, PropertyError> {
    let prefix = p.image_tag_prefix.as_deref().unwrap_or("");
    valid_tag(format!("{prefix}{}", content_hash(p)), "ImageTagPrefix")
}

/// The tag of a tarball image whose root manifest has digest `manifest_digest`
/// (`sha256:<64 hex>`): `ImageTag` if fixed, else `ImageTagPrefix` + the digest's hex. The
/// same tarball always gets the same tag, so an unchanged tarball is never pushed again;
/// the tag is the one `cib push` gives without `--tag` (with no prefix).
pub fn tarball_tag(p: &TriggerProperties, manifest_digest: &str) -> Result<String, PropertyError> {
    let hex = manifest_digest
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| {
            PropertyError::new(
                "Source.ImageTarball",
                format!("the tarball's manifest digest `{manifest_digest}` is not sha256:<64 hex digits>"),
            )
        })?;
    tag_from(p, hex)
}

fn tag_from(p: &TriggerProperties, hash: &str) -> Result<String, PropertyError> {
    match (&p.image_tag, &p.image_tag_prefix) {
        (Some(fixed), _) => valid_tag(fixed.clone(), "ImageTag"),
        (None, prefix) => valid_tag(
            format!("{}{hash}", prefix.as_deref().unwrap_or("")),
            "ImageTagPrefix",
        ),
    }
}

/// `tag` when ECR takes it, else the error naming the property `path` that gave it.
fn valid_tag(tag: String, path: &str) -> Result<String, PropertyError> {
    let valid_chars = tag
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_alphanumeric() || c == '_' || (i > 0 && (c == '.' || c == '-')));
    if tag.len() > MAX_TAG_LEN || !valid_chars {
        return Err(PropertyError::new(
            path,
            format!(
                "gives the tag `{tag}`, which ECR refuses (at most {MAX_TAG_LEN} characters of \
                 [A-Za-z0-9_.-], not starting with . or -)"
            ),
        ));
    }
    Ok(tag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::sample;

    fn props(m: &Map<String, Value>) -> TriggerProperties {
        TriggerProperties::parse(m).expect("parse")
    }

    #[test]
    fn key_order_does_not_change_the_tag() {
        let a = sample();
        let mut b = Map::new();
        for (k, v) in a.iter().rev() {
            b.insert(k.clone(), v.clone());
        }
        b.insert(
            "BuildArgs".into(),
            json!({"API_URL": "https://x", "STAGE": "prod"}),
        );
        assert_eq!(image_tag(&props(&a)).ok(), image_tag(&props(&b)).ok());
    }

    #[test]
    fn a_changed_build_arg_changes_the_tag_and_reverting_restores_it() {
        let a = sample();
        let mut b = a.clone();
        b.insert(
            "BuildArgs".into(),
            json!({"STAGE": "dev", "API_URL": "https://x"}),
        );
        let (ta, tb) = (image_tag(&props(&a)).ok(), image_tag(&props(&b)).ok());
        assert_ne!(ta, tb);
        assert_eq!(ta, image_tag(&props(&sample())).ok());
    }

    #[test]
    fn the_canonical_form_is_documented_and_stable() {
        let p = props(&sample());
        assert_eq!(
            canonical_inputs(&p),
            r#"{"buildArgs":{"API_URL":"https://x","STAGE":"prod"},"compression":"gzip","dockerfile":"Dockerfile","installCommands":[],"platform":"linux/arm64","preBuildCommands":[],"source":{"s3Bucket":"b","s3Key":"k.zip"},"v":1}"#
        );
        assert_eq!(image_tag(&p).ok().map(|t| t.len()), Some(64));
    }

    #[test]
    fn a_tarball_is_tagged_by_its_manifest_digest() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        let mut m = crate::fixtures::tarball_sample();
        let p = props(&m);
        assert!(p.is_tarball());
        assert_eq!(tarball_tag(&p, &digest).ok(), Some("ab".repeat(32)));
        m.insert("ImageTagPrefix".into(), json!("web-"));
        assert_eq!(
            tarball_tag(&props(&m), &digest).ok(),
            Some(format!("web-{}", "ab".repeat(32)))
        );
        m.insert("ImageTag".into(), json!("v2"));
        assert_eq!(tarball_tag(&props(&m), &digest).ok().as_deref(), Some("v2"));
        let e = tarball_tag(&p, "sha256:xyz").expect_err("not a digest");
        assert!(e.to_string().contains("Source.ImageTarball"), "{e}");
        assert!(tarball_tag(&p, &format!("sha512:{}", "ab".repeat(32))).is_err());
    }

    #[test]
    fn prefix_and_fixed_tags_are_honoured() {
        let mut m = sample();
        m.insert("ImageTagPrefix".into(), json!("api-"));
        let t = image_tag(&props(&m)).expect("tag");
        assert!(t.starts_with("api-") && t.len() == 68);
        m.insert("ImageTag".into(), json!("v1.2"));
        assert_eq!(image_tag(&props(&m)).ok().as_deref(), Some("v1.2"));
        m.insert("ImageTag".into(), json!("bad tag"));
        assert!(image_tag(&props(&m)).is_err());
    }
}
