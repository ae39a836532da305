//! The builder image: `cib bootstrap` copies the pinned BuildKit image into the account's
//! own ECR (`cib-tools/buildkit`), so no build ever pulls from Docker Hub (whose anonymous
//! pull limit CodeBuild's shared addresses hit, and which a build in a private subnet
//! cannot reach). The copy keeps the digest; the support stack's `BuilderImage` parameter
//! names `<registry>/cib-tools/buildkit@<digest>`.

use aws_sdk_ecr::types::{
    EncryptionConfiguration, EncryptionType, ImageScanningConfiguration, ImageTagMutability,
};
use cib_contract::BUILDER_REPOSITORY;
use cib_registry::{CopyOptions, EcrRepository, ImageReference, RegistryClient, Tag, copy_image};

use crate::aws::describe;

/// Copies `source` (a reference pinned by digest) into [`BUILDER_REPOSITORY`] unless that
/// digest is already there, and returns the digest-pinned URI builds start from.
pub async fn ensure_builder_image(
    client: &aws_sdk_ecr::Client,
    source: &str,
) -> Result<String, String> {
    let reference =
        ImageReference::parse(source).map_err(|e| format!("--builder-source {source}: {e}"))?;
    let Some(digest) = reference.digest.clone() else {
        return Err(format!(
            "--builder-source {source}: the builder image must be pinned by digest (NAME:TAG@sha256:...), \
             so every build runs exactly the image that was reviewed"
        ));
    };
    ensure_repository(client).await?;
    let destination = EcrRepository::new(client.clone(), BUILDER_REPOSITORY);
    let uri = destination
        .uri()
        .await
        .map_err(|e| format!("cannot read the URI of {BUILDER_REPOSITORY}: {e}"))?;
    let pinned = format!("{uri}@{}", digest.as_str());
    if image_exists(client, digest.as_str()).await? {
        eprintln!("builder image {pinned} is already in ECR");
        return Ok(pinned);
    }
    let source_client = RegistryClient::new(&reference, None)
        .map_err(|e| format!("cannot reach the registry of {source}: {e}"))?;
    // The tag is informative only (repository tags are immutable); the digest is what
    // the support stack pins.
    let tag = match &reference.tag {
        Some(tag) => Tag::Named(tag.clone()),
        None => Tag::Untagged,
    };
    eprintln!("copying the builder image {source} into {uri}");
    let report = copy_image(
        &source_client,
        &destination,
        &reference.reference(),
        &CopyOptions {
            tag,
            ..CopyOptions::default()
        },
    )
    .await
    .map_err(|e| format!("cannot copy the builder image {source} into {uri}: {e}"))?;
    if report.digest != digest {
        return Err(format!(
            "the builder image {source} copied as {}, not the pinned {}",
            report.digest.as_str(),
            digest.as_str()
        ));
    }
    eprintln!(
        "copied {} manifest(s), {} of {} blob(s) uploaded ({} bytes)",
        report.manifests, report.blobs_uploaded, report.blobs, report.bytes_uploaded
    );
    Ok(pinned)
}

/// Creates the builder repository when it is missing: immutable tags, scan on push.
async fn ensure_repository(client: &aws_sdk_ecr::Client) -> Result<(), String> {
    let created = client
        .create_repository()
        .repository_name(BUILDER_REPOSITORY)
        .image_tag_mutability(ImageTagMutability::Immutable)
        .image_scanning_configuration(
            ImageScanningConfiguration::builder()
                .scan_on_push(true)
                .build(),
        )
        .encryption_configuration(
            EncryptionConfiguration::builder()
                .encryption_type(EncryptionType::Aes256)
                .build()
                .map_err(|e| format!("encryption configuration: {e}"))?,
        )
        .send()
        .await;
    match created {
        Ok(_) => {
            eprintln!("created repository {BUILDER_REPOSITORY}");
            Ok(())
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_repository_already_exists_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(format!(
            "cannot create repository {BUILDER_REPOSITORY} (ecr:CreateRepository): {}",
            describe(&e)
        )),
    }
}

/// Whether the builder repository holds the manifest `digest`.
async fn image_exists(client: &aws_sdk_ecr::Client, digest: &str) -> Result<bool, String> {
    let found = client
        .batch_get_image()
        .repository_name(BUILDER_REPOSITORY)
        .image_ids(
            aws_sdk_ecr::types::ImageIdentifier::builder()
                .image_digest(digest)
                .build(),
        )
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot look up the builder image in {BUILDER_REPOSITORY} (ecr:BatchGetImage): {}",
                describe(&e)
            )
        })?;
    Ok(!found.images().is_empty())
}
