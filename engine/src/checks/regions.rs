//! CIB023-CIB028: replica regions must be real regions of the stack's partition, other
//! than the stack's own region.

use super::{Context, ids};
use crate::finding::Finding;
use crate::partition::{RegionLookup, lookup, partition_of};
use crate::path::TemplatePath;

/// Checks every image's replica regions.
pub fn check(context: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let any_replicas = context.images.iter().any(|i| !i.replica_regions.is_empty());
    let stack_partition = context.region.and_then(partition_of);
    if any_replicas && stack_partition.is_none() {
        let message = match context.region {
            Some(region) => {
                format!("the stack region `{region}` is not a region name of any partition")
            }
            None => {
                "the stack's region is unknown; replica regions are only checked against each other"
                    .to_owned()
            }
        };
        findings.push(Finding::warning(
            ids::REGION_UNKNOWN,
            None,
            "",
            message,
            "pass --region (or set AWS_REGION) to check replicas against the stack's partition",
        ));
    }
    // Without the stack's region, the first replica's partition stands in for it.
    let reference = stack_partition.or_else(|| {
        context
            .images
            .iter()
            .flat_map(|i| i.replica_regions.iter())
            .find_map(|r| partition_of(r))
    });
    for image in context.images {
        let base = TemplatePath::properties_of(&image.logical_id).key("ReplicaRegions");
        for (index, region) in image.replica_regions.iter().enumerate() {
            let path = base.index(index);
            let id = Some(image.logical_id.as_str());
            let partition = match lookup(region) {
                RegionLookup::Malformed => {
                    findings.push(Finding::error(
                        ids::MALFORMED_REGION,
                        id,
                        path,
                        format!("`{region}` is not a region name of any AWS partition"),
                        "use a region name such as us-west-2 or eu-central-1",
                    ));
                    continue;
                }
                RegionLookup::Unlisted(partition) => {
                    findings.push(Finding::warning(
                        ids::UNKNOWN_REGION,
                        id,
                        path.clone(),
                        format!("`{region}` looks like a region of partition `{}` but is not a known region", partition.id),
                        "check the spelling; ignore this if the region is new",
                    ));
                    partition
                }
                RegionLookup::Known(partition) => partition,
            };
            if image.replica_regions[..index].contains(region) {
                findings.push(Finding::warning(
                    ids::DUPLICATE_REPLICA,
                    id,
                    path.clone(),
                    format!("`{region}` is listed more than once"),
                    "remove the repeated entry",
                ));
            }
            if context.region == Some(region.as_str()) {
                findings.push(Finding::error(
                    ids::REPLICA_IS_STACK_REGION,
                    id,
                    path.clone(),
                    format!("`{region}` is the stack's own region; ECR cannot replicate a registry into itself"),
                    "remove it: the image is already in this region",
                ));
            }
            if let Some(reference) = reference
                && reference != partition
            {
                let whose = if stack_partition.is_some() {
                    "the stack's"
                } else {
                    "the other replicas'"
                };
                findings.push(Finding::error(
                        ids::CROSS_PARTITION,
                        id,
                        path,
                        format!(
                            "`{region}` is in partition `{}` but {whose} partition is `{}`; ECR does not replicate across partitions",
                            partition.id, reference.id
                        ),
                        format!("use regions of partition `{}`, or deploy a separate stack in `{}`", reference.id, partition.id),
                    ));
            }
        }
    }
    findings
}
