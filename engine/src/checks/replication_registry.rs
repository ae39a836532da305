//! CIB020/CIB021 against the live registry (`cib check --live`, `cib deploy`): the rules
//! and destinations that others already wrote count toward ECR's limits, together with
//! what this template adds.
//!
//! The provider merges a template's filters into a rule with exactly the same destination
//! set, or adds a new rule, and removes only its own filters (a rule left without filters
//! is dropped). This module counts the same way: the registry's configuration, minus the
//! filters this stack already owns, plus the template's plan. Pure: the caller reads the
//! registry and hands it over.

use std::collections::BTreeSet;

use super::ids;
use super::replication_limits::{MAX_DESTINATIONS, MAX_RULES};
use crate::expand::replication::plan;
use crate::finding::Finding;
use crate::path::TemplatePath;
use crate::spec::ImageSpec;

/// A replication destination: region and registry (account id).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Destination {
    /// Destination region.
    pub region: String,
    /// Destination registry id (account id).
    pub registry_id: String,
}

/// One rule of the registry's live replication configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegistryRule {
    /// Where the rule replicates to.
    pub destinations: Vec<Destination>,
    /// The rule's repository filters (prefixes); empty means every repository.
    pub filters: Vec<String>,
}

/// The registry as `ecr:DescribeRegistry` showed it, and what this stack owns in it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Registry {
    /// The account the stack deploys into (the template's destinations are in it).
    pub account_id: String,
    /// The live rules.
    pub rules: Vec<RegistryRule>,
    /// Repository filters this stack put there on an earlier deploy (its repositories' names).
    pub owned_filters: BTreeSet<String>,
}

impl Registry {
    /// The live rules without this stack's own filters; a rule left without filters is
    /// dropped, a rule that never had filters (someone's replicate-everything rule) is kept.
    pub fn foreign_rules(&self) -> Vec<RegistryRule> {
        self.rules
            .iter()
            .filter_map(|rule| {
                let filters: Vec<String> = rule
                    .filters
                    .iter()
                    .filter(|f| !self.owned_filters.contains(*f))
                    .cloned()
                    .collect();
                if !rule.filters.is_empty() && filters.is_empty() {
                    return None;
                }
                Some(RegistryRule {
                    destinations: rule.destinations.clone(),
                    filters,
                })
            })
            .collect()
    }
}

/// Counts the registry's foreign rules and destinations together with the template's plan;
/// an error finding when the merged configuration would pass ECR's limits.
pub fn check(images: &[ImageSpec], registry: &Registry) -> Vec<Finding> {
    let rules = plan(images);
    if rules.is_empty() {
        return Vec::new();
    }
    let foreign = registry.foreign_rules();
    let foreign_sets: Vec<BTreeSet<Destination>> = foreign
        .iter()
        .map(|rule| rule.destinations.iter().cloned().collect())
        .collect();
    let mut findings = Vec::new();
    let mut total_rules = foreign.len();
    for rule in &rules {
        let set: BTreeSet<Destination> = rule
            .regions
            .iter()
            .map(|region| Destination {
                region: region.clone(),
                registry_id: registry.account_id.clone(),
            })
            .collect();
        if foreign_sets.contains(&set) {
            continue;
        }
        total_rules += 1;
        if total_rules > MAX_RULES {
            let image = rule
                .images
                .first()
                .map(|i| i.logical_id.as_str())
                .unwrap_or_default();
            findings.push(Finding::error(
                ids::TOO_MANY_RULES,
                Some(image),
                TemplatePath::properties_of(image).key("ReplicaRegions"),
                format!(
                    "the registry already has {} replication rule(s) that this stack does not own; with this image's replica set it would have {total_rules}, and ECR allows {MAX_RULES}",
                    foreign.len()
                ),
                "reuse a replica set that the registry already has, or remove unused replication rules from the registry",
            ));
            break;
        }
    }
    let mut destinations: BTreeSet<Destination> = foreign
        .iter()
        .flat_map(|rule| rule.destinations.iter().cloned())
        .collect();
    let existing = destinations.len();
    'images: for image in images {
        for (index, region) in image.replica_regions.iter().enumerate() {
            let destination = Destination {
                region: region.clone(),
                registry_id: registry.account_id.clone(),
            };
            if destinations.insert(destination) && destinations.len() > MAX_DESTINATIONS {
                findings.push(Finding::error(
                    ids::TOO_MANY_DESTINATIONS,
                    Some(&image.logical_id),
                    TemplatePath::properties_of(&image.logical_id)
                        .key("ReplicaRegions")
                        .index(index),
                    format!(
                        "the registry already replicates to {existing} destination(s) this stack does not own; adding `{region}` makes {}, and ECR allows {MAX_DESTINATIONS}",
                        destinations.len()
                    ),
                    "replicate to regions the registry already uses, or remove unused destinations from the registry",
                ));
                break 'images;
            }
        }
    }
    findings
}
