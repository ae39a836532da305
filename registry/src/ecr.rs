//! An ECR repository as a [`Destination`] (the layer-upload API: no Docker, no registry
//! login) and as a [`Source`] (BatchGetImage, GetDownloadUrlForLayer).
//!
//! Limits, from the Amazon ECR API reference:
//! - `BatchCheckLayerAvailability`: at most 100 `layerDigests` per call
//!   (API_BatchCheckLayerAvailability, "Array Members: Minimum number of 1 item. Maximum
//!   number of 100 items.").
//! - `UploadLayerPart`: `layerPartBlob` of at most 20,971,520 bytes (API_UploadLayerPart,
//!   "Length Constraints: Minimum length of 0. Maximum length of 20971520."); parts of one
//!   upload are sent in order, each starting after the last byte received.
//! - `PutImage`: `imageManifest` of at most 4,194,304 characters; `imageManifestMediaType`
//!   given explicitly, so a manifest without a `mediaType` field is accepted.

use std::collections::HashSet;

use aws_sdk_ecr::Client;
use aws_sdk_ecr::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ecr::primitives::Blob;
use aws_sdk_ecr::types::ImageIdentifier;
use bytes::BytesMut;
use futures_util::StreamExt;

use crate::copy::{Destination, Source};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::http::{HttpClient, body_stream, error_text};
use crate::manifest::{Descriptor, MAX_MANIFEST_BYTES, Manifest, MediaType};
use crate::progress::{Progress, ProgressFn, report};
use crate::stream::{BlobStream, verified};

/// The most digests one `BatchCheckLayerAvailability` call takes (see the module doc).
pub const MAX_DIGESTS_PER_CHECK: usize = 100;
/// The largest `UploadLayerPart` payload (see the module doc).
pub const MAX_PART_BYTES: usize = 20_971_520;
/// The smallest part size we use for parts other than the last, as S3 multipart uploads
/// (which back ECR layer uploads) require of every part but the last.
pub const MIN_PART_BYTES: usize = 5 * 1024 * 1024;
/// The default part size: bounds memory at about three times this per blob in flight
/// (the part, its base64 form in the request, the request body).
pub const DEFAULT_PART_BYTES: usize = 10 * 1024 * 1024;

/// The part size of one layer upload: the `partSize` `InitiateLayerUpload` answered ("the
/// size, in bytes, that Amazon ECR expects future layer part uploads to be", ECR API
/// reference) when it is within [`MIN_PART_BYTES`]..=[`MAX_PART_BYTES`] (memory stays
/// bounded whatever ECR says), else `configured`.
pub fn part_size(answered: Option<i64>, configured: usize) -> usize {
    answered
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| (MIN_PART_BYTES..=MAX_PART_BYTES).contains(n))
        .unwrap_or(configured)
}

/// One ECR repository, in one region (the client's).
#[derive(Debug, Clone)]
pub struct EcrRepository {
    client: Client,
    repository: String,
    registry_id: Option<String>,
    part_bytes: usize,
    http: Option<HttpClient>,
}

impl EcrRepository {
    /// The repository `repository` of the client's account and region.
    pub fn new(client: Client, repository: &str) -> EcrRepository {
        EcrRepository {
            client,
            repository: repository.to_owned(),
            registry_id: None,
            part_bytes: DEFAULT_PART_BYTES,
            http: None,
        }
    }

    /// In another account's registry (cross-account access granted by its policy).
    pub fn with_registry_id(mut self, registry_id: &str) -> EcrRepository {
        self.registry_id = Some(registry_id.to_owned());
        self
    }

    /// The size of each `UploadLayerPart` (5 MiB to 20 MiB; the last part of a blob may be
    /// smaller).
    pub fn with_part_bytes(mut self, part_bytes: usize) -> Result<EcrRepository> {
        if !(MIN_PART_BYTES..=MAX_PART_BYTES).contains(&part_bytes) {
            return Err(Error::Option {
                name: "part_bytes",
                reason: format!(
                    "{part_bytes} is not between {MIN_PART_BYTES} and {MAX_PART_BYTES} (ECR's \
                     UploadLayerPart limit)"
                ),
            });
        }
        self.part_bytes = part_bytes;
        Ok(self)
    }

    /// The repository's name.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The repository's URI (`<account>.dkr.ecr.<region>.<domain>/<name>`), as ECR reports
    /// it (`DescribeRepositories`), so every partition's domain is right.
    pub async fn uri(&self) -> Result<String> {
        let out = self
            .client
            .describe_repositories()
            .set_registry_id(self.registry_id.clone())
            .repository_names(&self.repository)
            .send()
            .await
            .map_err(|e| self.sdk_error("DescribeRepositories", &e))?;
        out.repositories()
            .first()
            .and_then(|r| r.repository_uri())
            .map(str::to_owned)
            .ok_or_else(|| Error::Ecr {
                operation: "DescribeRepositories",
                repository: self.repository.clone(),
                message: "the repository has no URI".into(),
            })
    }

    fn sdk_error<E, R>(&self, operation: &'static str, err: &SdkError<E, R>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let message = match (err.code(), err.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.to_owned(),
            _ => DisplayErrorContext(err).to_string(),
        };
        Error::Ecr {
            operation,
            repository: self.repository.clone(),
            message,
        }
    }

    fn http(&self) -> Result<HttpClient> {
        match &self.http {
            Some(http) => Ok(http.clone()),
            None => HttpClient::new(),
        }
    }

    /// `BatchGetImage` of one image, accepting every manifest media type we know.
    async fn batch_get_image(
        &self,
        id: ImageIdentifier,
    ) -> Result<aws_sdk_ecr::operation::batch_get_image::BatchGetImageOutput> {
        self.client
            .batch_get_image()
            .set_registry_id(self.registry_id.clone())
            .repository_name(&self.repository)
            .image_ids(id)
            .set_accepted_media_types(Some(
                MediaType::MANIFESTS
                    .iter()
                    .map(|m| (*m).to_owned())
                    .collect(),
            ))
            .send()
            .await
            .map_err(|e| self.sdk_error("BatchGetImage", &e))
    }

    /// The digest of the image `tag` (or, without a tag, `manifest` itself) names in the
    /// repository, `None` when there is none. `DescribeImages`, which the provider's role
    /// may call in every region (`BatchGetImage` only at home).
    async fn digest_of(&self, manifest: &Manifest, tag: Option<&str>) -> Result<Option<String>> {
        let id = match tag {
            Some(tag) => ImageIdentifier::builder().image_tag(tag).build(),
            None => ImageIdentifier::builder()
                .image_digest(manifest.digest.as_str())
                .build(),
        };
        match self
            .client
            .describe_images()
            .set_registry_id(self.registry_id.clone())
            .repository_name(&self.repository)
            .image_ids(id)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .image_details()
                .first()
                .and_then(|d| d.image_digest())
                .map(str::to_owned)),
            Err(e) if e.code() == Some("ImageNotFoundException") => Ok(None),
            Err(e) => Err(self.sdk_error("DescribeImages", &e)),
        }
    }

    fn tag_taken(&self, manifest: &Manifest, tag: Option<&str>, held: Option<&str>) -> Error {
        Error::Ecr {
            operation: "PutImage",
            repository: self.repository.clone(),
            message: format!(
                "tag `{}` already names another image ({}), not {}, and the repository's \
                 tags are immutable; the tag was not moved",
                tag.unwrap_or_default(),
                held.unwrap_or("digest unknown"),
                manifest.digest
            ),
        }
    }

    /// Sends one part; `first` is the offset of its first byte in the blob.
    async fn upload_part(&self, upload_id: &str, first: u64, part: BytesMut) -> Result<()> {
        let last = first + part.len() as u64 - 1;
        self.client
            .upload_layer_part()
            .set_registry_id(self.registry_id.clone())
            .repository_name(&self.repository)
            .upload_id(upload_id)
            .part_first_byte(i64::try_from(first).unwrap_or(i64::MAX))
            .part_last_byte(i64::try_from(last).unwrap_or(i64::MAX))
            .layer_part_blob(Blob::new(part.freeze()))
            .send()
            .await
            .map_err(|e| self.sdk_error("UploadLayerPart", &e))?;
        Ok(())
    }
}

impl Destination for EcrRepository {
    fn name(&self) -> String {
        format!("ECR repository {}", self.repository)
    }

    async fn missing_blobs(&self, digests: &[Digest]) -> Result<HashSet<Digest>> {
        let mut missing = HashSet::new();
        for chunk in digests.chunks(MAX_DIGESTS_PER_CHECK) {
            let out = self
                .client
                .batch_check_layer_availability()
                .set_registry_id(self.registry_id.clone())
                .repository_name(&self.repository)
                .set_layer_digests(Some(chunk.iter().map(|d| d.to_string()).collect()))
                .send()
                .await
                .map_err(|e| self.sdk_error("BatchCheckLayerAvailability", &e))?;
            let available: HashSet<&str> = out
                .layers()
                .iter()
                .filter(|l| {
                    l.layer_availability()
                        .is_some_and(|a| a.as_str() == "AVAILABLE")
                })
                .filter_map(|l| l.layer_digest())
                .collect();
            for failure in out.failures() {
                let code = failure.failure_code().map(|c| c.as_str()).unwrap_or("");
                if code != "MissingLayerDigest" {
                    return Err(Error::Ecr {
                        operation: "BatchCheckLayerAvailability",
                        repository: self.repository.clone(),
                        message: format!(
                            "{}: {code}: {}",
                            failure.layer_digest().unwrap_or("?"),
                            failure.failure_reason().unwrap_or("")
                        ),
                    });
                }
            }
            missing.extend(
                chunk
                    .iter()
                    .filter(|d| !available.contains(d.as_str()))
                    .cloned(),
            );
        }
        Ok(missing)
    }

    async fn put_blob(
        &self,
        descriptor: &Descriptor,
        mut content: BlobStream,
        progress: Option<&ProgressFn>,
    ) -> Result<()> {
        let upload = self
            .client
            .initiate_layer_upload()
            .set_registry_id(self.registry_id.clone())
            .repository_name(&self.repository)
            .send()
            .await
            .map_err(|e| self.sdk_error("InitiateLayerUpload", &e))?;
        let upload_id = upload.upload_id().ok_or_else(|| Error::Ecr {
            operation: "InitiateLayerUpload",
            repository: self.repository.clone(),
            message: "no uploadId in the answer".into(),
        })?;
        let part_bytes = part_size(upload.part_size(), self.part_bytes);
        let mut sent: u64 = 0;
        let mut part = BytesMut::with_capacity(part_bytes);
        // Every source's stream verifies size and digest and ends in an error when they do
        // not match, before CompleteLayerUpload is called: an upload never completed is
        // discarded by ECR, so a bad blob never becomes available.
        while let Some(chunk) = content.next().await {
            let mut chunk = chunk?;
            while !chunk.is_empty() {
                let room = part_bytes - part.len();
                let take = room.min(chunk.len());
                part.extend_from_slice(&chunk.split_to(take));
                if part.len() == part_bytes {
                    let full = part.split();
                    part.reserve(part_bytes);
                    let len = full.len() as u64;
                    self.upload_part(upload_id, sent, full).await?;
                    sent += len;
                    report(
                        progress,
                        Progress::BlobBytes {
                            digest: descriptor.digest.clone(),
                            sent,
                            size: descriptor.size,
                        },
                    );
                }
            }
        }
        if !part.is_empty() {
            let len = part.len() as u64;
            self.upload_part(upload_id, sent, part).await?;
            sent += len;
            report(
                progress,
                Progress::BlobBytes {
                    digest: descriptor.digest.clone(),
                    sent,
                    size: descriptor.size,
                },
            );
        }
        let completed = self
            .client
            .complete_layer_upload()
            .set_registry_id(self.registry_id.clone())
            .repository_name(&self.repository)
            .upload_id(upload_id)
            .layer_digests(descriptor.digest.as_str())
            .send()
            .await;
        match completed {
            Ok(out) => {
                if let Some(got) = out.layer_digest()
                    && got != descriptor.digest.as_str()
                {
                    return Err(Error::Ecr {
                        operation: "CompleteLayerUpload",
                        repository: self.repository.clone(),
                        message: format!("ECR computed {got} for blob {}", descriptor.digest),
                    });
                }
                Ok(())
            }
            // Another copy finished the same blob first: it is there, which is all we need.
            Err(e) if e.code() == Some("LayerAlreadyExistsException") => Ok(()),
            Err(e) => Err(self.sdk_error("CompleteLayerUpload", &e)),
        }
    }

    /// Idempotent: a tag that already names this manifest is done without a write (ECR
    /// refuses a second PutImage of a tag in an immutable repository even for the same
    /// digest, and answers `ImageAlreadyExistsException` for an unchanged one in a mutable
    /// repository); either refusal is read back, and only another digest is an error.
    async fn put_manifest(&self, manifest: &Manifest, tag: Option<&str>) -> Result<bool> {
        let text = std::str::from_utf8(&manifest.bytes).map_err(|e| Error::Manifest {
            name: manifest.digest.to_string(),
            reason: format!("is not UTF-8 text, which PutImage needs: {e}"),
        })?;
        if tag.is_some()
            && self.digest_of(manifest, tag).await?.as_deref() == Some(manifest.digest.as_str())
        {
            return Ok(true);
        }
        let result = self
            .client
            .put_image()
            .set_registry_id(self.registry_id.clone())
            .repository_name(&self.repository)
            .image_manifest(text)
            .image_manifest_media_type(&manifest.media_type)
            .image_digest(manifest.digest.as_str())
            .set_image_tag(tag.map(str::to_owned))
            .send()
            .await;
        match result {
            Ok(out) => {
                if let Some(got) = out
                    .image()
                    .and_then(|i| i.image_id())
                    .and_then(|i| i.image_digest())
                    && got != manifest.digest.as_str()
                {
                    return Err(Error::Ecr {
                        operation: "PutImage",
                        repository: self.repository.clone(),
                        message: format!(
                            "ECR stored the manifest as {got}, not {}: it was changed",
                            manifest.digest
                        ),
                    });
                }
                Ok(false)
            }
            // Either "already exists" is success only when the tag (or digest) names our
            // manifest now: another writer (ECR replication, a retried invocation) may have
            // put it between our read and our write.
            Err(e)
                if matches!(
                    e.code(),
                    Some("ImageAlreadyExistsException" | "ImageTagAlreadyExistsException")
                ) =>
            {
                match self.digest_of(manifest, tag).await? {
                    Some(held) if held == manifest.digest.as_str() => Ok(true),
                    held => Err(self.tag_taken(manifest, tag, held.as_deref())),
                }
            }
            Err(e) => Err(self.sdk_error("PutImage", &e)),
        }
    }
}

impl Source for EcrRepository {
    fn name(&self) -> String {
        format!("ECR repository {}", self.repository)
    }

    async fn manifest(&self, reference: &str, media_type: Option<&str>) -> Result<Manifest> {
        let id = match Digest::parse(reference) {
            Ok(digest) => ImageIdentifier::builder()
                .image_digest(digest.as_str())
                .build(),
            Err(_) => ImageIdentifier::builder().image_tag(reference).build(),
        };
        let out = self.batch_get_image(id).await?;
        let image = out.images().first().ok_or_else(|| Error::Ecr {
            operation: "BatchGetImage",
            repository: self.repository.clone(),
            message: match out.failures().first() {
                Some(f) => format!(
                    "{reference}: {}: {}",
                    f.failure_code().map(|c| c.as_str()).unwrap_or("?"),
                    f.failure_reason().unwrap_or("")
                ),
                None => format!("{reference}: not found"),
            },
        })?;
        let text = image.image_manifest().unwrap_or_default();
        if text.len() as u64 > MAX_MANIFEST_BYTES {
            return Err(Error::Manifest {
                name: reference.to_owned(),
                reason: format!("is larger than {MAX_MANIFEST_BYTES} bytes"),
            });
        }
        let declared = image.image_manifest_media_type().or(media_type);
        Manifest::from_bytes(
            &format!("{}:{reference}", self.repository),
            bytes::Bytes::copy_from_slice(text.as_bytes()),
            declared,
        )
    }

    async fn blob(&self, descriptor: &Descriptor) -> Result<BlobStream> {
        let out = self
            .client
            .get_download_url_for_layer()
            .set_registry_id(self.registry_id.clone())
            .repository_name(&self.repository)
            .layer_digest(descriptor.digest.as_str())
            .send()
            .await
            .map_err(|e| self.sdk_error("GetDownloadUrlForLayer", &e))?;
        let url = out.download_url().ok_or_else(|| Error::Ecr {
            operation: "GetDownloadUrlForLayer",
            repository: self.repository.clone(),
            message: format!("no download URL for {}", descriptor.digest),
        })?;
        let response = self.http()?.get(url, &[]).await?;
        if !response.status().is_success() {
            return Err(Error::Registry {
                url: crate::http::redact(url),
                message: format!("blob {}: {}", descriptor.digest, error_text(response).await),
            });
        }
        let origin = format!("{} layer download", self.repository);
        Ok(verified(body_stream(response, url), descriptor, origin))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecrs_part_size_is_used_within_the_memory_bound() {
        assert_eq!(
            part_size(Some(8 * 1024 * 1024), DEFAULT_PART_BYTES),
            8 * 1024 * 1024
        );
        assert_eq!(part_size(None, DEFAULT_PART_BYTES), DEFAULT_PART_BYTES);
        assert_eq!(
            part_size(Some(1024), DEFAULT_PART_BYTES),
            DEFAULT_PART_BYTES
        );
        assert_eq!(
            part_size(Some(1 << 30), DEFAULT_PART_BYTES),
            DEFAULT_PART_BYTES
        );
        assert_eq!(part_size(Some(-1), MIN_PART_BYTES), MIN_PART_BYTES);
    }
}
