//! ECR calls: image lookup, replica repository creation, the registry's replication
//! configuration, repository tags.

use aws_sdk_ecr::Client;
use aws_sdk_ecr::operation::create_repository::CreateRepositoryError;
use aws_sdk_ecr::operation::describe_images::DescribeImagesError;
use aws_sdk_ecr::types::{
    EncryptionConfiguration, EncryptionType, ImageIdentifier, ImageScanningConfiguration,
    ImageTagMutability, ReplicationConfiguration, ReplicationDestination, ReplicationRule,
    RepositoryFilter, RepositoryFilterType, Tag,
};

use super::describe;
use crate::error::ProviderError;
use crate::replication::{Destination, Filter, ReplicationConfig, Rule};

/// What one region holds under `repository:tag`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The tag names this digest.
    Found(String),
    /// The repository exists without the tag.
    NoImage,
    /// The repository does not exist.
    NoRepository,
}

/// The digest of `repository:tag`, or `None` if the image (or the repository) is not there.
pub async fn image_digest(
    client: &Client,
    repository: &str,
    tag: &str,
) -> Result<Option<String>, ProviderError> {
    Ok(match image_lookup(client, repository, tag).await? {
        Lookup::Found(digest) => Some(digest),
        Lookup::NoImage | Lookup::NoRepository => None,
    })
}

/// What the client's region holds under `repository:tag`.
pub async fn image_lookup(
    client: &Client,
    repository: &str,
    tag: &str,
) -> Result<Lookup, ProviderError> {
    let result = client
        .describe_images()
        .repository_name(repository)
        .image_ids(ImageIdentifier::builder().image_tag(tag).build())
        .send()
        .await;
    match result {
        Ok(out) => Ok(out
            .image_details()
            .iter()
            .find_map(|d| d.image_digest().map(str::to_string))
            .map_or(Lookup::NoImage, Lookup::Found)),
        Err(e) => match e.as_service_error() {
            Some(DescribeImagesError::ImageNotFoundException(_)) => Ok(Lookup::NoImage),
            Some(DescribeImagesError::RepositoryNotFoundException(_)) => Ok(Lookup::NoRepository),
            _ => Err(ProviderError::Aws {
                operation: "ECR DescribeImages",
                message: describe(&e),
            }),
        },
    }
}

/// Removes `tag` from `repository` in the client's region (`BatchDeleteImage` by tag; the
/// image goes with its last tag). A tag that is not there is done already.
pub async fn remove_tag(client: &Client, repository: &str, tag: &str) -> Result<(), ProviderError> {
    let out = client
        .batch_delete_image()
        .repository_name(repository)
        .image_ids(ImageIdentifier::builder().image_tag(tag).build())
        .send()
        .await
        .map_err(|e| ProviderError::Aws {
            operation: "ECR BatchDeleteImage",
            message: describe(&e),
        })?;
    // Failures come back in the answer, not as an error ("ImageNotFound" is done).
    match out.failures().iter().find(|f| {
        f.failure_code()
            .is_none_or(|c| c.as_str() != "ImageNotFound")
    }) {
        Some(failure) => Err(ProviderError::Aws {
            operation: "ECR BatchDeleteImage",
            message: format!(
                "{}: {}",
                failure.failure_code().map_or("unknown", |c| c.as_str()),
                failure.failure_reason().unwrap_or_default()
            ),
        }),
        None => Ok(()),
    }
}

/// How a replica repository the provider creates is encrypted: as its home repository,
/// as far as a region allows. A KMS key belongs to one region, so a KMS-encrypted home
/// repository gets replicas under ECR's AWS managed key (`aws/ecr`) of their region, which
/// ECR uses when `KMS` is asked without a key (ECR API reference, EncryptionConfiguration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaEncryption {
    /// SSE-S3 (`AES256`), our default.
    Aes256,
    /// `KMS` with the region's AWS managed key.
    AwsManagedKms,
}

/// The encryption replicas of `repository` (in the client's region, the home region) get:
/// KMS when the home repository uses KMS, else AES256.
pub async fn replica_encryption(
    client: &Client,
    repository: &str,
) -> Result<ReplicaEncryption, ProviderError> {
    let out = client
        .describe_repositories()
        .repository_names(repository)
        .send()
        .await
        .map_err(|e| ProviderError::Aws {
            operation: "ECR DescribeRepositories",
            message: describe(&e),
        })?;
    let kms = out.repositories().iter().any(|r| {
        r.encryption_configuration()
            .is_some_and(|c| c.encryption_type() != &EncryptionType::Aes256)
    });
    Ok(if kms {
        ReplicaEncryption::AwsManagedKms
    } else {
        ReplicaEncryption::Aes256
    })
}

/// The lifecycle policy of image repositories (the text lives in `cib-contract`).
pub use cib_contract::IMAGE_LIFECYCLE_POLICY;

/// Creates `repository` in the client's region with the settings of our image
/// repositories (immutable tags, scan on push, AES256, [`IMAGE_LIFECYCLE_POLICY`]), as the
/// support stack's creation template would have when replication creates it. A repository
/// that already exists (created meanwhile by replication) is left as it is.
pub async fn create_image_repository(
    client: &Client,
    repository: &str,
    encryption: ReplicaEncryption,
) -> Result<(), ProviderError> {
    let created = client
        .create_repository()
        .repository_name(repository)
        .image_tag_mutability(ImageTagMutability::Immutable)
        .image_scanning_configuration(
            ImageScanningConfiguration::builder()
                .scan_on_push(true)
                .build(),
        )
        .encryption_configuration(
            EncryptionConfiguration::builder()
                .encryption_type(match encryption {
                    ReplicaEncryption::Aes256 => EncryptionType::Aes256,
                    ReplicaEncryption::AwsManagedKms => EncryptionType::Kms,
                })
                .build()
                .map_err(|e| ProviderError::Aws {
                    operation: "ECR CreateRepository",
                    message: format!("invalid encryption configuration: {e}"),
                })?,
        )
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(e)
            if matches!(
                e.as_service_error(),
                Some(CreateRepositoryError::RepositoryAlreadyExistsException(_))
            ) =>
        {
            return Ok(());
        }
        Err(e) => {
            return Err(ProviderError::Aws {
                operation: "ECR CreateRepository",
                message: describe(&e),
            });
        }
    }
    client
        .put_lifecycle_policy()
        .repository_name(repository)
        .lifecycle_policy_text(IMAGE_LIFECYCLE_POLICY)
        .send()
        .await
        .map_err(|e| ProviderError::Aws {
            operation: "ECR PutLifecyclePolicy",
            message: describe(&e),
        })?;
    Ok(())
}

/// The registry's live replication configuration.
pub async fn replication(client: &Client) -> Result<ReplicationConfig, ProviderError> {
    let out = client
        .describe_registry()
        .send()
        .await
        .map_err(|e| ProviderError::Aws {
            operation: "ECR DescribeRegistry",
            message: describe(&e),
        })?;
    let rules = out
        .replication_configuration()
        .map(|c| c.rules())
        .unwrap_or_default()
        .iter()
        .map(|r| Rule {
            destinations: r
                .destinations()
                .iter()
                .map(|d| Destination {
                    region: d.region().to_string(),
                    registry_id: d.registry_id().to_string(),
                })
                .collect(),
            filters: r
                .repository_filters()
                .iter()
                .map(|f| Filter {
                    filter: f.filter().to_string(),
                    filter_type: f.filter_type().as_str().to_string(),
                })
                .collect(),
        })
        .collect();
    Ok(ReplicationConfig { rules })
}

/// Writes the registry's whole replication configuration.
pub async fn put_replication(
    client: &Client,
    config: &ReplicationConfig,
) -> Result<(), ProviderError> {
    let invalid = |what: &str, e: aws_sdk_ecr::error::BuildError| ProviderError::Aws {
        operation: "ECR PutReplicationConfiguration",
        message: format!("invalid {what}: {e}"),
    };
    let mut rules = Vec::new();
    for rule in &config.rules {
        let mut b = ReplicationRule::builder();
        for d in &rule.destinations {
            b = b.destinations(
                ReplicationDestination::builder()
                    .region(&d.region)
                    .registry_id(&d.registry_id)
                    .build()
                    .map_err(|e| invalid("destination", e))?,
            );
        }
        for f in &rule.filters {
            b = b.repository_filters(
                RepositoryFilter::builder()
                    .filter(&f.filter)
                    .filter_type(RepositoryFilterType::from(f.filter_type.as_str()))
                    .build()
                    .map_err(|e| invalid("repository filter", e))?,
            );
        }
        rules.push(b.build().map_err(|e| invalid("rule", e))?);
    }
    let configuration = ReplicationConfiguration::builder()
        .set_rules(Some(rules))
        .build()
        .map_err(|e| invalid("configuration", e))?;
    client
        .put_replication_configuration()
        .replication_configuration(configuration)
        .send()
        .await
        .map_err(|e| ProviderError::Aws {
            operation: "ECR PutReplicationConfiguration",
            message: describe(&e),
        })?;
    Ok(())
}

/// Most tags one repository holds ("Maximum number of tags per resource – 50", AWS tagging
/// quotas; ECR's `TagResource` refuses more).
pub const TAGS_PER_REPOSITORY_MAX: usize = 50;

/// Every tag of a repository, as (key, value).
pub async fn repository_tags(
    client: &Client,
    repository_arn: &str,
) -> Result<Vec<(String, String)>, ProviderError> {
    let out = client
        .list_tags_for_resource()
        .resource_arn(repository_arn)
        .send()
        .await
        .map_err(|e| ProviderError::Aws {
            operation: "ECR ListTagsForResource",
            message: describe(&e),
        })?;
    Ok(out
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect())
}

/// Removes one tag of a repository (none there is done already).
pub async fn remove_repository_tag(
    client: &Client,
    repository_arn: &str,
    key: &str,
) -> Result<(), ProviderError> {
    client
        .untag_resource()
        .resource_arn(repository_arn)
        .tag_keys(key)
        .send()
        .await
        .map_err(|e| ProviderError::Aws {
            operation: "ECR UntagResource",
            message: describe(&e),
        })?;
    Ok(())
}

/// Sets one tag of a repository.
pub async fn set_repository_tag(
    client: &Client,
    repository_arn: &str,
    key: &str,
    value: &str,
) -> Result<(), ProviderError> {
    let tag = Tag::builder()
        .key(key)
        .value(value)
        .build()
        .map_err(|e| ProviderError::Aws {
            operation: "ECR TagResource",
            message: format!("invalid tag: {e}"),
        })?;
    client
        .tag_resource()
        .resource_arn(repository_arn)
        .tags(tag)
        .send()
        .await
        .map_err(|e| ProviderError::Aws {
            operation: "ECR TagResource",
            message: describe(&e),
        })?;
    Ok(())
}
