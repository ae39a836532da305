//! CIB020-CIB022: ECR's registry replication limits, counted on this template alone
//! (`cib check --live` also counts the registry's existing rules).

use std::collections::BTreeSet;

use super::{Context, ids};
use crate::expand::replication::plan;
use crate::finding::Finding;
use crate::path::TemplatePath;

/// Rules (distinct destination sets) per registry.
pub const MAX_RULES: usize = 10;
/// Distinct destinations per registry.
pub const MAX_DESTINATIONS: usize = 25;
/// Repository filters per rule.
pub const MAX_FILTERS_PER_RULE: usize = 100;

/// Checks the template's replication plan against ECR's limits.
pub fn check(context: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let rules = plan(context.images);
    if let Some(rule) = rules.get(MAX_RULES) {
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
                "this image's replica set is the {}th distinct one in the template; ECR allows {MAX_RULES} replication rules per registry, one per distinct set",
                MAX_RULES + 1
            ),
            "give images the same ReplicaRegions lists where you can (each distinct list is one rule)",
        ));
    }
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    'images: for image in context.images {
        for (index, region) in image.replica_regions.iter().enumerate() {
            if seen.insert(region) && seen.len() > MAX_DESTINATIONS {
                findings.push(Finding::error(
                    ids::TOO_MANY_DESTINATIONS,
                    Some(&image.logical_id),
                    TemplatePath::properties_of(&image.logical_id).key("ReplicaRegions").index(index),
                    format!(
                        "`{region}` is the {}th distinct replica region in the template; ECR allows {MAX_DESTINATIONS} destinations per registry",
                        MAX_DESTINATIONS + 1
                    ),
                    "replicate to fewer regions, or split the images across accounts",
                ));
                break 'images;
            }
        }
    }
    for rule in &rules {
        if let Some(image) = rule.images.get(MAX_FILTERS_PER_RULE) {
            findings.push(Finding::error(
                ids::TOO_MANY_FILTERS,
                Some(&image.logical_id),
                TemplatePath::properties_of(&image.logical_id).key("ReplicaRegions"),
                format!(
                    "{} images replicate to [{}]; one ECR replication rule holds at most {MAX_FILTERS_PER_RULE} repository filters",
                    rule.images.len(),
                    rule.regions.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
                "give some of these images a different replica set, or name their repositories with a shared prefix",
            ));
        }
    }
    findings
}
