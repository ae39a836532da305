//! The copy: for each manifest of an image, its blobs first (those the destination lacks,
//! several at a time, each verified as it streams), then the manifests (an index's
//! platform manifests by digest), and the tag last, with the root manifest. A failure
//! anywhere before the last step leaves no tag behind.

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::path::Path;

use futures_util::{StreamExt, TryStreamExt, stream};

use crate::archive::Tarball;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::manifest::{Descriptor, Manifest, Parsed};
use crate::progress::{Progress, ProgressFn, report};
use crate::stream::BlobStream;

/// Where images are read from.
pub trait Source: Sync {
    /// How errors and reports name this source.
    fn name(&self) -> String;

    /// The manifest `reference` names: a tag or a `sha256:` digest. `media_type` is the
    /// type a referrer declared (an index entry's), if any.
    fn manifest(
        &self,
        reference: &str,
        media_type: Option<&str>,
    ) -> impl Future<Output = Result<Manifest>> + Send;

    /// A blob's content, verified against the descriptor as it streams: the stream must
    /// end in an error, not in its end, when the size or digest does not match
    /// ([`crate::stream::verified`] does this).
    fn blob(&self, descriptor: &Descriptor) -> impl Future<Output = Result<BlobStream>> + Send;
}

/// Where images are written to.
pub trait Destination: Sync {
    /// How errors and reports name this destination.
    fn name(&self) -> String;

    /// Which of `digests` the destination does not have yet.
    fn missing_blobs(
        &self,
        digests: &[Digest],
    ) -> impl Future<Output = Result<HashSet<Digest>>> + Send;

    /// Uploads one blob from `content`; reports bytes through `progress`. The blob must not
    /// become available unless `content` ends without error.
    fn put_blob(
        &self,
        descriptor: &Descriptor,
        content: BlobStream,
        progress: Option<&ProgressFn>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Writes a manifest, tagged or by digest only; `Ok(true)` when it was already there.
    fn put_manifest(
        &self,
        manifest: &Manifest,
        tag: Option<&str>,
    ) -> impl Future<Output = Result<bool>> + Send;
}

/// Which tag the copied image gets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Tag {
    /// The source reference when it is a tag; untagged when it is a digest.
    #[default]
    SameAsSource,
    /// This tag.
    Named(String),
    /// The root manifest digest's 64 hex digits (what `cib push` uses by default).
    DigestHex,
    /// No tag: the image is written by digest only.
    Untagged,
}

/// How a copy runs.
#[derive(Clone)]
pub struct CopyOptions {
    /// The tag to write.
    pub tag: Tag,
    /// Blobs uploaded at once (1 to 16).
    pub parallel_blobs: usize,
    /// Receives progress events.
    pub progress: Option<ProgressFn>,
}

impl Default for CopyOptions {
    fn default() -> CopyOptions {
        CopyOptions {
            tag: Tag::default(),
            parallel_blobs: 3,
            progress: None,
        }
    }
}

impl std::fmt::Debug for CopyOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CopyOptions")
            .field("tag", &self.tag)
            .field("parallel_blobs", &self.parallel_blobs)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// What a copy did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// The root manifest's digest (the image's digest).
    pub digest: Digest,
    /// The root manifest's media type.
    pub media_type: String,
    /// The tag written, if any.
    pub tag: Option<String>,
    /// Manifests written (the root, plus an index's platform manifests).
    pub manifests: usize,
    /// Blobs the image references.
    pub blobs: usize,
    /// Blobs uploaded (the rest were already there).
    pub blobs_uploaded: usize,
    /// Bytes uploaded.
    pub bytes_uploaded: u64,
    /// Whether the destination already had the root manifest under that tag.
    pub already_present: bool,
}

/// The most blobs uploaded at once.
pub const MAX_PARALLEL_BLOBS: usize = 16;

/// Copies the image `reference` names (a tag or a digest; ignored by a tarball, which has
/// one image) from `source` to `destination`.
pub async fn copy_image<S: Source, D: Destination>(
    source: &S,
    destination: &D,
    reference: &str,
    options: &CopyOptions,
) -> Result<CopyReport> {
    if !(1..=MAX_PARALLEL_BLOBS).contains(&options.parallel_blobs) {
        return Err(Error::Option {
            name: "parallel_blobs",
            reason: format!(
                "{} is not between 1 and {MAX_PARALLEL_BLOBS}",
                options.parallel_blobs
            ),
        });
    }
    let progress = options.progress.as_ref();
    let root = source.manifest(reference, None).await?;
    if let Ok(wanted) = Digest::parse(reference)
        && wanted != root.digest
    {
        return Err(Error::DigestMismatch {
            digest: wanted,
            origin: format!("manifest from {}", source.name()),
            actual: root.digest.to_string(),
        });
    }
    // Children first (an index's platform manifests), the root last.
    let mut manifests = Vec::new();
    if let Parsed::Index {
        manifests: children,
    } = root.parse()?
    {
        for child in &children {
            let manifest = source
                .manifest(child.digest.as_str(), Some(&child.media_type))
                .await?;
            if manifest.digest != child.digest {
                return Err(Error::DigestMismatch {
                    digest: child.digest.clone(),
                    origin: format!("manifest from {}", source.name()),
                    actual: manifest.digest.to_string(),
                });
            }
            manifests.push(manifest);
        }
    }
    manifests.push(root.clone());

    let mut blobs: BTreeMap<Digest, Descriptor> = BTreeMap::new();
    for manifest in &manifests {
        if let Parsed::Image { config, layers } = manifest.parse()? {
            for blob in std::iter::once(config).chain(layers) {
                blobs.entry(blob.digest.clone()).or_insert(blob);
            }
        }
    }
    let digests: Vec<Digest> = blobs.keys().cloned().collect();
    let missing = destination.missing_blobs(&digests).await?;
    let to_upload: Vec<Descriptor> = blobs
        .values()
        .filter(|d| missing.contains(&d.digest))
        .cloned()
        .collect();
    let bytes_uploaded: u64 = to_upload.iter().map(|d| d.size).sum();
    report(
        progress,
        Progress::Planned {
            blobs: blobs.len(),
            bytes: blobs.values().map(|d| d.size).sum(),
            missing_blobs: to_upload.len(),
            missing_bytes: bytes_uploaded,
        },
    );
    let blobs_uploaded = to_upload.len();
    stream::iter(to_upload)
        .map(|descriptor| async move {
            report(
                progress,
                Progress::BlobStarted {
                    digest: descriptor.digest.clone(),
                    size: descriptor.size,
                },
            );
            let content = source.blob(&descriptor).await?;
            destination.put_blob(&descriptor, content, progress).await?;
            report(
                progress,
                Progress::BlobDone {
                    digest: descriptor.digest.clone(),
                    size: descriptor.size,
                },
            );
            Ok::<(), Error>(())
        })
        .buffer_unordered(options.parallel_blobs)
        .try_collect::<()>()
        .await?;

    let tag = match &options.tag {
        Tag::SameAsSource if Digest::parse(reference).is_err() && !reference.is_empty() => {
            Some(reference.to_owned())
        }
        Tag::SameAsSource | Tag::Untagged => None,
        Tag::Named(tag) => Some(tag.clone()),
        Tag::DigestHex => Some(root.digest.hex().to_owned()),
    };
    let mut already_present = false;
    let count = manifests.len();
    for (i, manifest) in manifests.iter().enumerate() {
        let is_root = i + 1 == count;
        let this_tag = if is_root { tag.as_deref() } else { None };
        let existed = destination.put_manifest(manifest, this_tag).await?;
        if is_root {
            already_present = existed;
        }
        report(
            progress,
            Progress::ManifestPut {
                digest: manifest.digest.clone(),
                tag: this_tag.map(str::to_owned),
                existed,
            },
        );
    }
    Ok(CopyReport {
        digest: root.digest.clone(),
        media_type: root.media_type.clone(),
        tag,
        manifests: count,
        blobs: blobs.len(),
        blobs_uploaded,
        bytes_uploaded,
        already_present,
    })
}

/// Pushes the image tarball at `path` to `destination`. `image` selects one image of a
/// tarball that holds several (see [`Tarball::open`]). The tarball is opened on tokio's
/// blocking pool (a `docker save` archive's layers are hashed once while opening).
pub async fn push_tarball<D: Destination>(
    path: &Path,
    image: Option<&str>,
    destination: &D,
    options: &CopyOptions,
) -> Result<CopyReport> {
    let owned_path = path.to_owned();
    let owned_image = image.map(str::to_owned);
    let tarball =
        tokio::task::spawn_blocking(move || Tarball::open(&owned_path, owned_image.as_deref()))
            .await
            .map_err(|e| Error::Io {
                path: path.display().to_string(),
                source: std::io::Error::other(e.to_string()),
            })??;
    copy_image(&tarball, destination, "", options).await
}

impl Source for Tarball {
    fn name(&self) -> String {
        self.label().to_owned()
    }

    async fn manifest(&self, reference: &str, _media_type: Option<&str>) -> Result<Manifest> {
        match Digest::parse(reference) {
            Ok(digest) => self.manifest_by_digest(&digest),
            Err(_) => Ok(self.root().clone()),
        }
    }

    async fn blob(&self, descriptor: &Descriptor) -> Result<BlobStream> {
        self.blob_stream(descriptor)
    }
}
