//! Image tarballs as a [`Source`](crate::copy::Source): an OCI image layout in a tar
//! (`oci-layout`, `index.json`, `blobs/sha256/<hex>`; OCI image spec v1.1,
//! `image-layout.md`), or a `docker save` archive (`manifest.json` naming a config and
//! layer tars, gzip-compressed or not).
//!
//! Opening a tarball scans its headers (see [`crate::tar`]), reads the small JSON files
//! and works out the image's root manifest. A `docker save` archive has no manifest of its
//! own: one is written (OCI image manifest, layers with the media type their first bytes
//! show), after hashing every layer once. Blobs are streamed from the archive later, each
//! verified against its digest as it streams.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;

use crate::digest::{Digest, Hasher};
use crate::error::{Error, Result};
use crate::manifest::{Descriptor, MAX_MANIFEST_BYTES, Manifest, MediaType, Parsed};
use crate::stream::{BlobStream, CHUNK_BYTES, entry_stream, verified};
use crate::tar::{self, Entry, Index, ReadAt};

/// The OCI annotation that names an image in an `index.json`.
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// Which kind of tarball it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An OCI image layout.
    OciLayout,
    /// A `docker save` archive.
    DockerArchive,
}

/// An image tarball, scanned and resolved to one root manifest.
pub struct Tarball {
    label: String,
    archive: Arc<dyn ReadAt>,
    format: Format,
    root: Manifest,
    /// Manifests held in memory: the root and (OCI) every child of an index.
    manifests: HashMap<Digest, Manifest>,
    /// Blob digest -> entry.
    blobs: HashMap<Digest, Entry>,
}

impl std::fmt::Debug for Tarball {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tarball")
            .field("label", &self.label)
            .field("format", &self.format)
            .field("root", &self.root.digest)
            .finish()
    }
}

impl Tarball {
    /// Opens and resolves the tarball at `path` (blocking I/O: call it from
    /// `spawn_blocking` in async code). `image` selects one image of an archive that holds
    /// several: an `org.opencontainers.image.ref.name` of an OCI layout, or a `RepoTags`
    /// entry of a `docker save` archive.
    pub fn open(path: &Path, image: Option<&str>) -> Result<Tarball> {
        let label = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|source| Error::Io {
            path: label.clone(),
            source,
        })?;
        let mut magic = [0u8; 2];
        if tar::read_exact_at(&file, &mut magic, 0).is_ok() && magic == [0x1f, 0x8b] {
            return Err(Error::Layout {
                path: label,
                reason: "is gzip-compressed; decompress it first (`gunzip -k`), blobs are read \
                         from the tar by offset"
                    .into(),
            });
        }
        Tarball::from_reader(Arc::new(file), label, image)
    }

    /// Resolves a tarball from any random-access reader; `label` names it in errors.
    pub fn from_reader(
        archive: Arc<dyn ReadAt>,
        label: String,
        image: Option<&str>,
    ) -> Result<Tarball> {
        let index = tar::scan(archive.as_ref(), &label)?;
        let reader = Reader {
            archive: archive.as_ref(),
            index: &index,
            label: &label,
        };
        let (format, root, manifests, blobs) = if index.get("oci-layout").is_some()
            && index.get("index.json").is_some()
        {
            let (root, manifests, blobs) = reader.oci_layout(image)?;
            (Format::OciLayout, root, manifests, blobs)
        } else if index.get("manifest.json").is_some() {
            let (root, blobs) = reader.docker_archive(image)?;
            let manifests = HashMap::from([(root.digest.clone(), root.clone())]);
            (Format::DockerArchive, root, manifests, blobs)
        } else {
            return Err(Error::Layout {
                path: label,
                reason: "is neither an OCI image layout (no `oci-layout` and `index.json`) nor a \
                         `docker save` archive (no `manifest.json`)"
                    .into(),
            });
        };
        Ok(Tarball {
            label,
            archive,
            format,
            root,
            manifests,
            blobs,
        })
    }

    /// The tarball's format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The root manifest: the image's manifest, or its index when it has several platforms.
    pub fn root(&self) -> &Manifest {
        &self.root
    }

    /// How errors name the tarball (its path).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The manifest with this digest (the root, or a child of the root index).
    pub fn manifest_by_digest(&self, digest: &Digest) -> Result<Manifest> {
        self.manifests
            .get(digest)
            .cloned()
            .ok_or_else(|| Error::MissingBlob {
                digest: digest.clone(),
                referrer: self.root.digest.to_string(),
                source_name: self.label.clone(),
            })
    }

    /// A blob's content as a verified stream; the entry must exist and have the
    /// descriptor's size.
    pub fn blob_stream(&self, descriptor: &Descriptor) -> Result<BlobStream> {
        let entry = self
            .blobs
            .get(&descriptor.digest)
            .ok_or_else(|| Error::MissingBlob {
                digest: descriptor.digest.clone(),
                referrer: format!("a manifest of {}", self.label),
                source_name: self.label.clone(),
            })?;
        if entry.size != descriptor.size {
            return Err(Error::Entry {
                entry: entry.name.clone(),
                reason: format!(
                    "is {} bytes, but the manifest declares {} bytes for {}",
                    entry.size, descriptor.size, descriptor.digest
                ),
            });
        }
        let origin = format!("{} entry `{}`", self.label, entry.name);
        let raw = entry_stream(Arc::clone(&self.archive), entry, self.label.clone());
        Ok(verified(raw, descriptor, origin))
    }
}

struct Reader<'a> {
    archive: &'a dyn ReadAt,
    index: &'a Index,
    label: &'a str,
}

type Resolved = (Manifest, HashMap<Digest, Manifest>, HashMap<Digest, Entry>);

#[derive(Deserialize)]
struct DockerImage {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

impl Reader<'_> {
    fn entry(&self, name: &str, referrer: &str) -> Result<&Entry> {
        let normalized = tar::normalize(name).map_err(|reason| Error::Entry {
            entry: name.to_owned(),
            reason: format!("(named by {referrer}) {reason}"),
        })?;
        self.index.get(&normalized).ok_or_else(|| Error::Layout {
            path: self.label.to_owned(),
            reason: format!("{referrer} names `{name}`, which is not in the archive"),
        })
    }

    /// Reads a small entry whole (JSON files and manifests), refusing large ones.
    fn small(&self, entry: &Entry, limit: u64) -> Result<Bytes> {
        if entry.size > limit {
            return Err(Error::Entry {
                entry: entry.name.clone(),
                reason: format!(
                    "is {} bytes; at most {limit} are read for this file",
                    entry.size
                ),
            });
        }
        let mut buf = vec![0u8; entry.size as usize];
        tar::read_exact_at(self.archive, &mut buf, entry.offset).map_err(|source| Error::Io {
            path: format!("{} (entry `{}`)", self.label, entry.name),
            source,
        })?;
        Ok(Bytes::from(buf))
    }

    fn blob_entry(&self, digest: &Digest) -> Option<&Entry> {
        self.index.get(&format!("blobs/sha256/{}", digest.hex()))
    }

    /// Reads a manifest blob of the layout and checks it against its descriptor.
    fn oci_manifest(&self, descriptor: &Descriptor, referrer: &str) -> Result<Manifest> {
        let entry = self
            .blob_entry(&descriptor.digest)
            .ok_or_else(|| Error::MissingBlob {
                digest: descriptor.digest.clone(),
                referrer: referrer.to_owned(),
                source_name: self.label.to_owned(),
            })?;
        if entry.size != descriptor.size {
            return Err(Error::Entry {
                entry: entry.name.clone(),
                reason: format!(
                    "is {} bytes, but {referrer} declares {}",
                    entry.size, descriptor.size
                ),
            });
        }
        let bytes = self.small(entry, MAX_MANIFEST_BYTES)?;
        let actual = Digest::of(&bytes);
        if actual != descriptor.digest {
            return Err(Error::DigestMismatch {
                digest: descriptor.digest.clone(),
                origin: format!("{} entry `{}`", self.label, entry.name),
                actual: actual.to_string(),
            });
        }
        Manifest::from_bytes(&entry.name, bytes, Some(&descriptor.media_type))
    }

    fn oci_layout(&self, image: Option<&str>) -> Result<Resolved> {
        let layout_entry = self.entry("oci-layout", "the OCI layout")?;
        let layout: Value =
            serde_json::from_slice(&self.small(layout_entry, 64 * 1024)?).map_err(|e| {
                Error::Entry {
                    entry: "oci-layout".into(),
                    reason: format!("is not JSON: {e}"),
                }
            })?;
        let version = layout.get("imageLayoutVersion").and_then(Value::as_str);
        if !version.is_some_and(|v| v.starts_with("1.")) {
            return Err(Error::Entry {
                entry: "oci-layout".into(),
                reason: format!("imageLayoutVersion is {version:?}; version 1.x is read"),
            });
        }
        let index_entry = self.entry("index.json", "the OCI layout")?;
        let index_bytes = self.small(index_entry, MAX_MANIFEST_BYTES)?;
        let index = Manifest::from_bytes("index.json", index_bytes, None)
            .map_err(|e| rename(e, "index.json"))?;
        if !MediaType::is_index(&index.media_type) {
            return Err(Error::Entry {
                entry: "index.json".into(),
                reason: format!("has media type `{}`, not an image index", index.media_type),
            });
        }
        let entries = index.index_entries().map_err(|e| rename(e, "index.json"))?;
        let annotations = index_annotations(&index.bytes);
        let chosen: Vec<usize> = match image {
            Some(name) => (0..entries.len())
                .filter(|&i| annotations.get(i).and_then(Option::as_deref) == Some(name))
                .collect(),
            None => (0..entries.len()).collect(),
        };
        let mut manifests = HashMap::new();
        let root = match chosen.as_slice() {
            [] if image.is_some() => {
                return Err(Error::Layout {
                    path: self.label.to_owned(),
                    reason: format!(
                        "index.json has no image named `{}` (names: {})",
                        image.unwrap_or_default(),
                        names(&annotations)
                    ),
                });
            }
            [] => {
                return Err(Error::Entry {
                    entry: "index.json".into(),
                    reason: "lists no image".into(),
                });
            }
            [one] => {
                let descriptor = &entries[*one];
                self.oci_manifest(descriptor, &format!("index.json manifests[{one}]"))?
            }
            _ if image.is_none()
                && entries
                    .iter()
                    .all(|d| d.platform.is_some() && !MediaType::is_index(&d.media_type)) =>
            {
                // Several platform manifests listed directly in index.json: the layout's
                // index is the image index, pushed as it is.
                index.clone()
            }
            _ => {
                return Err(Error::Layout {
                    path: self.label.to_owned(),
                    reason: format!(
                        "index.json lists {} images; choose one by name (names: {})",
                        entries.len(),
                        names(&annotations)
                    ),
                });
            }
        };
        manifests.insert(root.digest.clone(), root.clone());
        let mut blobs = HashMap::new();
        let mut images = vec![root.clone()];
        if let Parsed::Index {
            manifests: children,
        } = root.parse()?
        {
            images.clear();
            for (i, child) in children.iter().enumerate() {
                let manifest =
                    self.oci_manifest(child, &format!("index {} manifests[{i}]", root.digest))?;
                manifests.insert(manifest.digest.clone(), manifest.clone());
                images.push(manifest);
            }
        }
        for image in &images {
            let Parsed::Image { config, layers } = image.parse()? else {
                continue;
            };
            for blob in std::iter::once(&config).chain(&layers) {
                let entry = self
                    .blob_entry(&blob.digest)
                    .ok_or_else(|| Error::MissingBlob {
                        digest: blob.digest.clone(),
                        referrer: format!("manifest {}", image.digest),
                        source_name: self.label.to_owned(),
                    })?;
                blobs.insert(blob.digest.clone(), entry.clone());
            }
        }
        Ok((root, manifests, blobs))
    }

    fn docker_archive(&self, image: Option<&str>) -> Result<(Manifest, HashMap<Digest, Entry>)> {
        let entry = self.entry("manifest.json", "a docker save archive")?;
        let images: Vec<DockerImage> =
            serde_json::from_slice(&self.small(entry, MAX_MANIFEST_BYTES)?).map_err(|e| {
                Error::Entry {
                    entry: "manifest.json".into(),
                    reason: format!("is not a docker save manifest: {e}"),
                }
            })?;
        let tags = |i: &DockerImage| i.repo_tags.clone().unwrap_or_default().join(", ");
        let chosen: Vec<&DockerImage> = match image {
            Some(name) => images
                .iter()
                .filter(|i| {
                    i.repo_tags
                        .as_ref()
                        .is_some_and(|t| t.iter().any(|t| t == name))
                })
                .collect(),
            None => images.iter().collect(),
        };
        let [image] = chosen.as_slice() else {
            let all: Vec<String> = images.iter().map(tags).collect();
            return Err(Error::Layout {
                path: self.label.to_owned(),
                reason: format!(
                    "manifest.json has {} matching images out of {} (tags: {}); exactly one is \
                     pushed, choose it by tag",
                    chosen.len(),
                    images.len(),
                    all.join("; ")
                ),
            });
        };
        let mut blobs = HashMap::new();
        let config_entry = self.entry(&image.config, "manifest.json Config")?;
        let config_bytes = self.small(config_entry, MAX_MANIFEST_BYTES)?;
        let config_digest = Digest::of(&config_bytes);
        check_named_digest(config_entry, &config_digest, self.label)?;
        blobs.insert(config_digest.clone(), config_entry.clone());
        let mut layers = Vec::new();
        for (i, name) in image.layers.iter().enumerate() {
            let entry = self.entry(name, &format!("manifest.json Layers[{i}]"))?;
            let (digest, media_type) = self.hash_layer(entry)?;
            check_named_digest(entry, &digest, self.label)?;
            blobs.insert(digest.clone(), entry.clone());
            layers.push(serde_json::json!({
                "mediaType": media_type,
                "digest": digest.as_str(),
                "size": entry.size,
            }));
        }
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": MediaType::OCI_MANIFEST,
            "config": {
                "mediaType": MediaType::OCI_CONFIG,
                "digest": config_digest.as_str(),
                "size": config_entry.size,
            },
            "layers": layers,
        });
        let bytes = serde_json::to_vec(&manifest).map_err(|e| Error::Layout {
            path: self.label.to_owned(),
            reason: format!("cannot write the manifest: {e}"),
        })?;
        let root = Manifest::from_bytes("manifest.json", Bytes::from(bytes), None)?;
        Ok((root, blobs))
    }

    /// Hashes a layer entry and tells its media type from its first bytes.
    fn hash_layer(&self, entry: &Entry) -> Result<(Digest, &'static str)> {
        let mut hasher = Hasher::new();
        let mut buf = vec![0u8; CHUNK_BYTES];
        let mut pos = entry.offset;
        let end = entry.offset + entry.size;
        let mut media_type = MediaType::OCI_LAYER_TAR;
        while pos < end {
            let n = usize::try_from(end - pos)
                .unwrap_or(CHUNK_BYTES)
                .min(CHUNK_BYTES);
            tar::read_exact_at(self.archive, &mut buf[..n], pos).map_err(|source| Error::Io {
                path: format!("{} (entry `{}`)", self.label, entry.name),
                source,
            })?;
            if pos == entry.offset {
                media_type = sniff_layer(&buf[..n]);
            }
            hasher.update(&buf[..n]);
            pos += n as u64;
        }
        Ok((hasher.finish(), media_type))
    }
}

/// The media type a layer's first bytes show: gzip, zstd, or a plain tar.
pub fn sniff_layer(head: &[u8]) -> &'static str {
    if head.starts_with(&[0x1f, 0x8b]) {
        MediaType::OCI_LAYER_GZIP
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        MediaType::OCI_LAYER_ZSTD
    } else {
        MediaType::OCI_LAYER_TAR
    }
}

/// An entry named by its digest (`blobs/sha256/<hex>`, `<hex>.json`, `<hex>.tar`,
/// `<hex>/layer.tar` is not: legacy layer ids are not digests) must hash to that digest.
fn check_named_digest(entry: &Entry, actual: &Digest, label: &str) -> Result<()> {
    let file = entry.name.rsplit('/').next().unwrap_or(&entry.name);
    let stem = file
        .strip_suffix(".json")
        .or_else(|| file.strip_suffix(".tar"))
        .unwrap_or(file);
    let named_by_digest = entry.name.starts_with("blobs/sha256/") || entry.name == file;
    if named_by_digest
        && let Ok(expected) = Digest::parse(&format!("sha256:{stem}"))
        && &expected != actual
    {
        return Err(Error::DigestMismatch {
            digest: expected,
            origin: format!("{label} entry `{}`", entry.name),
            actual: actual.to_string(),
        });
    }
    Ok(())
}

fn index_annotations(bytes: &[u8]) -> Vec<Option<String>> {
    serde_json::from_slice::<Value>(bytes)
        .ok()
        .and_then(|v| v.get("manifests").and_then(Value::as_array).cloned())
        .unwrap_or_default()
        .iter()
        .map(|m| {
            m.pointer(&format!(
                "/annotations/{}",
                REF_NAME_ANNOTATION.replace('/', "~1")
            ))
            .and_then(Value::as_str)
            .map(str::to_owned)
        })
        .collect()
}

fn names(annotations: &[Option<String>]) -> String {
    let named: Vec<&str> = annotations.iter().filter_map(Option::as_deref).collect();
    if named.is_empty() {
        "none".into()
    } else {
        named.join(", ")
    }
}

fn rename(error: Error, entry: &str) -> Error {
    match error {
        Error::Manifest { reason, .. } => Error::Entry {
            entry: entry.to_owned(),
            reason,
        },
        other => other,
    }
}
