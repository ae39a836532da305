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
