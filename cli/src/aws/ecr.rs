//! ECR: the registry's replication configuration, in the engine's terms.

use aws_sdk_ecr::Client;
use cib_engine::checks::replication_registry::{Destination, RegistryRule};

use super::describe;

/// The registry's id (the account) and its replication rules (`ecr:DescribeRegistry`).
pub async fn replication_rules(client: &Client) -> Result<(String, Vec<RegistryRule>), String> {
    let registry = client.describe_registry().send().await.map_err(|e| {
        format!(
            "cannot read the ECR registry (ecr:DescribeRegistry): {}",
            describe(&e)
        )
    })?;
    let registry_id = registry.registry_id().unwrap_or_default().to_owned();
    let rules = registry
        .replication_configuration()
        .map(|config| {
            config
                .rules()
                .iter()
                .map(|rule| RegistryRule {
                    destinations: rule
                        .destinations()
                        .iter()
                        .map(|d| Destination {
                            region: d.region().to_owned(),
                            registry_id: d.registry_id().to_owned(),
                        })
                        .collect(),
                    filters: rule
                        .repository_filters()
                        .iter()
                        .map(|f| f.filter().to_owned())
                        .collect(),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok((registry_id, rules))
}

/// Where one tag is in one region's registry (`ecr:DescribeImages`).
pub async fn image_lookup(
    client: &Client,
    repository: &str,
    tag: &str,
) -> Result<crate::plan::decide::Lookup, String> {
    use aws_sdk_ecr::operation::describe_images::DescribeImagesError;
    use aws_sdk_ecr::types::ImageIdentifier;

    use crate::plan::decide::Lookup;
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
            .find_map(|d| d.image_digest().map(str::to_owned))
            .map_or(Lookup::NoImage, Lookup::Found)),
        Err(e) => match e.as_service_error() {
            Some(DescribeImagesError::ImageNotFoundException(_)) => Ok(Lookup::NoImage),
            Some(DescribeImagesError::RepositoryNotFoundException(_)) => Ok(Lookup::NoRepository),
            _ => Err(format!(
                "cannot look up {repository}:{tag} (ecr:DescribeImages): {}",
                describe(&e)
            )),
        },
    }
}

/// The tags of the repository `arn` (`ecr:ListTagsForResource`).
pub async fn repository_tags(
    client: &Client,
    arn: &str,
) -> Result<std::collections::BTreeMap<String, String>, String> {
    let out = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot read the tags of {arn} (ecr:ListTagsForResource): {}",
                describe(&e)
            )
        })?;
    Ok(out
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect())
}
