//! The template's replication resource: one rule per distinct destination set.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::attributes::if_image_exists;
use super::repository;
use crate::spec::ImageSpec;

/// A replication rule: a destination set and the images replicated to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule<'a> {
    /// Destination regions, sorted, without duplicates.
    pub regions: BTreeSet<String>,
    /// Images whose repositories the rule filters on.
    pub images: Vec<&'a ImageSpec>,
}

/// Groups the images with replicas by destination set, in first-seen order.
pub fn plan(images: &[ImageSpec]) -> Vec<Rule<'_>> {
    let mut rules: Vec<Rule<'_>> = Vec::new();
    for image in images.iter().filter(|i| !i.replica_regions.is_empty()) {
        let regions: BTreeSet<String> = image.replica_regions.iter().cloned().collect();
        match rules.iter_mut().find(|rule| rule.regions == regions) {
            Some(rule) => rule.images.push(image),
            None => rules.push(Rule {
                regions,
                images: vec![image],
            }),
        }
    }
    rules
}

/// The replication resource for `rules`, or `None` when no image has replicas.
pub fn resource(rules: &[Rule<'_>], service_token: &Value) -> Option<Map<String, Value>> {
    if rules.is_empty() {
        return None;
    }
    let rules: Vec<Value> = rules
        .iter()
        .map(|rule| {
            let destinations: Vec<Value> = rule
                .regions
                .iter()
                .map(|region| json!({"Region": region, "RegistryId": {"Ref": "AWS::AccountId"}}))
                .collect();
            // The platform images of a multi-platform image share its repository: one
            // filter for it.
            let mut filters: Vec<Value> = Vec::new();
            for image in &rule.images {
                let filter = if_image_exists(
                    image,
                    json!({"Filter": repository::refs(image).name, "FilterType": "PREFIX_MATCH"}),
                );
                if !filters.contains(&filter) {
                    filters.push(filter);
                }
            }
            json!({"Destinations": destinations, "RepositoryFilters": filters})
        })
        .collect();
    let mut resource = Map::new();
    resource.insert(
        "Type".into(),
        json!("Custom::ContainerImageBuildReplication"),
    );
    resource.insert(
        "Properties".into(),
        json!({
            "ServiceToken": service_token,
            "ContractVersion": super::trigger::CONTRACT_VERSION,
            "Rules": rules
        }),
    );
    Some(resource)
}
