//! CIB088: a build in a VPC that must reach other regions.

use super::{Context, ids};
use crate::finding::Finding;
use crate::path::TemplatePath;

/// Reports images built in a VPC with replica regions: the build's final phase waits for
/// the image in each replica region (ECR `DescribeImages` there), and interface endpoints
/// serve only their own region, so a private subnet without a NAT gateway cannot reach them
/// and the build fails after its replica wait.
pub fn check(context: &Context<'_>) -> Vec<Finding> {
    context
        .images
        .iter()
        .filter(|image| image.environment.vpc_config.is_some() && !image.replica_regions.is_empty())
        .map(|image| {
            Finding::warning(
                ids::VPC_CROSS_REGION,
                Some(&image.logical_id),
                TemplatePath::properties_of(&image.logical_id).key("VpcConfig"),
                "a build in a VPC with ReplicaRegions: the build waits for the image in each replica region through ECR's API there, which interface endpoints (one region each) do not serve, so subnets without a NAT gateway fail the build after the replica wait",
                "give the build's subnets a NAT gateway (docs/provider.md lists the endpoints a VPC build needs), or build outside the VPC",
            )
        })
        .collect()
}
