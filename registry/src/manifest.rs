//! Manifests and descriptors: the four manifest media types we copy, and the parts of their
//! JSON a copy needs (which blobs and child manifests they reference).
//!
//! Formats: OCI image spec v1.1 (`image-manifest.md`, `image-index.md`, `descriptor.md`)
//! and Docker's image manifest v2 schema 2 (manifest and manifest list).

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::{Error, Result};

/// The largest manifest we read: ECR's PutImage takes an `imageManifest` of at most
/// 4,194,304 characters (ECR API reference, PutImage, "Length Constraints").
pub const MAX_MANIFEST_BYTES: u64 = 4_194_304;

/// Media type names.
pub struct MediaType;

impl MediaType {
    /// OCI image manifest.
    pub const OCI_MANIFEST: &'static str = "application/vnd.oci.image.manifest.v1+json";
    /// OCI image index (multi-platform).
    pub const OCI_INDEX: &'static str = "application/vnd.oci.image.index.v1+json";
    /// Docker image manifest v2 schema 2.
    pub const DOCKER_MANIFEST: &'static str =
        "application/vnd.docker.distribution.manifest.v2+json";
    /// Docker manifest list (multi-platform).
    pub const DOCKER_LIST: &'static str =
        "application/vnd.docker.distribution.manifest.list.v2+json";
    /// OCI image config.
    pub const OCI_CONFIG: &'static str = "application/vnd.oci.image.config.v1+json";
    /// OCI layer, uncompressed tar.
    pub const OCI_LAYER_TAR: &'static str = "application/vnd.oci.image.layer.v1.tar";
    /// OCI layer, gzip-compressed tar.
    pub const OCI_LAYER_GZIP: &'static str = "application/vnd.oci.image.layer.v1.tar+gzip";
    /// OCI layer, zstd-compressed tar.
    pub const OCI_LAYER_ZSTD: &'static str = "application/vnd.oci.image.layer.v1.tar+zstd";

    /// Every manifest media type a copy understands, for `Accept` headers and ECR's
    /// `acceptedMediaTypes`.
    pub const MANIFESTS: [&'static str; 4] = [
        MediaType::OCI_MANIFEST,
        MediaType::OCI_INDEX,
        MediaType::DOCKER_MANIFEST,
        MediaType::DOCKER_LIST,
    ];

    /// Whether `media_type` is an index (OCI index or Docker manifest list).
    pub fn is_index(media_type: &str) -> bool {
        media_type == MediaType::OCI_INDEX || media_type == MediaType::DOCKER_LIST
    }

    /// Whether `media_type` is one of the four manifest types.
    pub fn is_manifest(media_type: &str) -> bool {
        MediaType::MANIFESTS.contains(&media_type)
    }
}

/// A platform, as in an index entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// `amd64`, `arm64`, ...
    pub architecture: String,
    /// `linux`, ...
    pub os: String,
    /// `v8`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// A content descriptor: what a manifest says about one blob or child manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    /// The referenced content's media type.
    pub media_type: String,
    /// Its digest.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// The platform (index entries only).
    pub platform: Option<Platform>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDescriptor {
    #[serde(default)]
    media_type: Option<String>,
    digest: String,
    size: i64,
    #[serde(default)]
    platform: Option<Platform>,
    #[serde(default)]
    urls: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    schema_version: Option<i64>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    config: Option<serde_json::Value>,
    #[serde(default)]
    layers: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    manifests: Option<Vec<serde_json::Value>>,
}

/// A manifest's exact bytes with its media type and digest.
///
/// The bytes are never re-serialized: what is pushed is what was read, so the digest and
/// any signature over it stay valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// One of [`MediaType::MANIFESTS`].
    pub media_type: String,
    /// The digest of `bytes`.
    pub digest: Digest,
    /// The manifest as written.
    pub bytes: Bytes,
}

/// What a manifest references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// An image manifest: its config and layers, in order.
    Image {
        /// The config blob.
        config: Descriptor,
        /// The layer blobs.
        layers: Vec<Descriptor>,
    },
    /// An index: one child manifest per platform (or attestation).
    Index {
        /// The child manifests.
        manifests: Vec<Descriptor>,
    },
}

impl Manifest {
    /// A manifest from its bytes, its digest computed; `declared` is the media type the
    /// referrer gave (a descriptor's, or an HTTP Content-Type), if any. `name` is how errors
    /// name it. The media type must be known and agree with the manifest's own `mediaType`.
    pub fn from_bytes(name: &str, bytes: Bytes, declared: Option<&str>) -> Result<Manifest> {
        let raw = parse_raw(name, &bytes)?;
        let media_type = resolve_media_type(name, &raw, declared)?;
        Ok(Manifest {
            digest: Digest::of(&bytes),
            media_type,
            bytes,
        })
    }

    /// The entries of an index without checking what they are (an OCI layout's
    /// `index.json` may list indexes).
    pub fn index_entries(&self) -> Result<Vec<Descriptor>> {
        let name = self.digest.to_string();
        parse_raw(&name, &self.bytes)?
            .manifests
            .ok_or_else(|| Error::Manifest {
                name: name.clone(),
                reason: "an index needs a `manifests` list".into(),
            })?
            .into_iter()
            .enumerate()
            .map(|(i, d)| descriptor(&name, &format!("manifests[{i}]"), d, None))
            .collect()
    }

    /// The blobs and child manifests this manifest references.
    pub fn parse(&self) -> Result<Parsed> {
        let name = self.digest.to_string();
        let raw = parse_raw(&name, &self.bytes)?;
        let bad = |reason: String| Error::Manifest {
            name: name.clone(),
            reason,
        };
        if MediaType::is_index(&self.media_type) {
            let manifests = raw
                .manifests
                .ok_or_else(|| bad("an index needs a `manifests` list".into()))?
                .into_iter()
                .enumerate()
                .map(|(i, d)| descriptor(&name, &format!("manifests[{i}]"), d, None))
                .collect::<Result<Vec<_>>>()?;
            for (i, child) in manifests.iter().enumerate() {
                if !MediaType::is_manifest(&child.media_type) {
                    return Err(bad(format!(
                        "manifests[{i}] ({}) has media type `{}`, not one of {}",
                        child.digest,
                        child.media_type,
                        MediaType::MANIFESTS.join(", ")
                    )));
                }
                if MediaType::is_index(&child.media_type) {
                    return Err(bad(format!(
                        "manifests[{i}] ({}) is itself an index; nested indexes are not copied",
                        child.digest
                    )));
                }
            }
            Ok(Parsed::Index { manifests })
        } else {
            let config = raw
                .config
                .ok_or_else(|| bad("an image manifest needs a `config`".into()))
                .and_then(|d| descriptor(&name, "config", d, None))?;
            let layers = raw
                .layers
                .ok_or_else(|| bad("an image manifest needs a `layers` list".into()))?
                .into_iter()
                .enumerate()
                .map(|(i, d)| descriptor(&name, &format!("layers[{i}]"), d, None))
                .collect::<Result<Vec<_>>>()?;
            Ok(Parsed::Image { config, layers })
        }
    }
}

fn parse_raw(name: &str, bytes: &[u8]) -> Result<RawManifest> {
    let raw: RawManifest = serde_json::from_slice(bytes).map_err(|e| Error::Manifest {
        name: name.to_owned(),
        reason: format!("not a manifest: {e}"),
    })?;
    if raw.schema_version != Some(2) {
        return Err(Error::Manifest {
            name: name.to_owned(),
            reason: format!(
                "schemaVersion is {:?}; only schema version 2 manifests are copied",
                raw.schema_version
            ),
        });
    }
    Ok(raw)
}

fn resolve_media_type(name: &str, raw: &RawManifest, declared: Option<&str>) -> Result<String> {
    let own = raw.media_type.as_deref();
    let chosen = match (own, declared) {
        (Some(own), Some(declared)) if own != declared => {
            return Err(Error::Manifest {
                name: name.to_owned(),
                reason: format!("its mediaType `{own}` differs from the declared `{declared}`"),
            });
        }
        (Some(own), _) => own,
        (None, Some(declared)) => declared,
        // An OCI manifest may omit mediaType; its shape says which it is.
        (None, None) if raw.manifests.is_some() => MediaType::OCI_INDEX,
        (None, None) => MediaType::OCI_MANIFEST,
    };
    if !MediaType::is_manifest(chosen) {
        return Err(Error::Manifest {
            name: name.to_owned(),
            reason: format!(
                "unknown manifest media type `{chosen}`; expected one of {}",
                MediaType::MANIFESTS.join(", ")
            ),
        });
    }
    Ok(chosen.to_owned())
}

fn descriptor(
    name: &str,
    field: &str,
    value: serde_json::Value,
    default_media_type: Option<&str>,
) -> Result<Descriptor> {
    let bad = |reason: String| Error::Manifest {
        name: name.to_owned(),
        reason: format!("{field}: {reason}"),
    };
    let raw: RawDescriptor =
        serde_json::from_value(value).map_err(|e| bad(format!("not a descriptor: {e}")))?;
    let digest = Digest::parse(&raw.digest).map_err(|e| bad(e.to_string()))?;
    let size = u64::try_from(raw.size).map_err(|_| bad(format!("negative size {}", raw.size)))?;
    if raw.urls.as_ref().is_some_and(|u| !u.is_empty()) {
        return Err(bad(format!(
            "{digest} is a foreign layer (it has `urls`); foreign layers are not copied"
        )));
    }
    let media_type = raw
        .media_type
        .or_else(|| default_media_type.map(str::to_owned))
        .ok_or_else(|| bad("a descriptor needs a mediaType".into()))?;
    Ok(Descriptor {
        media_type,
        digest,
        size,
        platform: raw.platform,
    })
}

/// Parses one descriptor from JSON (as in an OCI layout's `index.json`); `name` and `field`
/// name it in errors.
pub fn descriptor_from_json(
    name: &str,
    field: &str,
    value: serde_json::Value,
) -> Result<Descriptor> {
    descriptor(name, field, value, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    #[test]
    fn image_manifest_lists_config_and_layers() {
        let json = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{}","size":2}},"layers":[{{"mediaType":"{}","digest":"{}","size":3}}]}}"#,
            MediaType::OCI_MANIFEST,
            MediaType::OCI_CONFIG,
            d('a'),
            MediaType::OCI_LAYER_GZIP,
            d('b')
        );
        let m = Manifest::from_bytes("m", Bytes::from(json), None).ok();
        let parsed = m.as_ref().and_then(|m| m.parse().ok());
        match parsed {
            Some(Parsed::Image { config, layers }) => {
                assert_eq!(config.size, 2);
                assert_eq!(layers.len(), 1);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unknown_media_type_is_refused_with_the_name() {
        let json = r#"{"schemaVersion":2,"mediaType":"application/vnd.example+json"}"#;
        let err = Manifest::from_bytes("index.json", Bytes::from(json), None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("index.json") && err.contains("application/vnd.example+json"),
            "{err}"
        );
    }

    #[test]
    fn declared_type_must_agree() {
        let json = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[]}}"#,
            MediaType::OCI_INDEX
        );
        assert!(
            Manifest::from_bytes("x", Bytes::from(json), Some(MediaType::OCI_MANIFEST)).is_err()
        );
    }
}
