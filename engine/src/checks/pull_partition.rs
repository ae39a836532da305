//! CIB090: a repository in `PullFromRepositories` outside the stack's partition.
//!
//! IAM and ECR's credentials stop at the partition: a build in `aws` cannot pull from an
//! `aws-cn` or `aws-us-gov` registry with its role (partitions are separate, with separate
//! accounts and credentials; AWS General Reference, "Partitions"), and its login would use
//! the wrong DNS suffix. Checked when the stack's region is known.

use super::{Context, ids};
use crate::expand::pull::arn_parts;
use crate::finding::Finding;
use crate::partition::partition_of;
use crate::path::TemplatePath;

/// Errors for each pulled repository in another partition than the stack's.
pub fn check(context: &Context<'_>) -> Vec<Finding> {
    let Some(stack) = context.region.and_then(partition_of) else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    for image in context.images {
        for (i, arn) in image.pull_from_repositories.iter().enumerate() {
            let Some((partition, _, _)) = arn_parts(arn) else {
                continue;
            };
            if partition != stack.id {
                findings.push(Finding::error(
                    ids::PULL_OTHER_PARTITION,
                    Some(&image.logical_id),
                    TemplatePath::properties_of(&image.logical_id)
                        .key("PullFromRepositories")
                        .index(i),
                    format!(
                        "`{arn}` is in partition `{partition}`, the stack in `{}`: a build cannot pull across partitions",
                        stack.id
                    ),
                    format!(
                        "copy the base image into a registry of `{}` (for example with `cib push` or skopeo) and name that repository",
                        stack.id
                    ),
                ));
            }
        }
    }
    findings
}
