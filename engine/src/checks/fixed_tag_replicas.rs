//! CIB086: a fixed `ImageTag` with `ReplicaRegions`.

use super::{Context, ids};
use crate::finding::Finding;
use crate::path::TemplatePath;

/// Reports images with a fixed `ImageTag` and replica regions: the home repository of a
/// fixed tag is mutable (every deploy moves the tag), but the repositories replication
/// creates in the replica regions take the support stack's creation template, whose tags
/// are immutable, so the second build cannot move the tag there and fails after its replica
/// wait. Refused until replicas can follow the home repository's mutability.
pub fn check(context: &Context<'_>) -> Vec<Finding> {
    context
        .images
        .iter()
        .filter(|image| image.image_tag.is_some() && !image.replica_regions.is_empty())
        .map(|image| {
            Finding::error(
                ids::FIXED_TAG_WITH_REPLICAS,
                Some(&image.logical_id),
                TemplatePath::properties_of(&image.logical_id).key("ImageTag"),
                "a fixed ImageTag with ReplicaRegions: the tag moves on every deploy at home, but replica repositories keep immutable tags, so the second build cannot move it there and fails after the replica wait",
                "drop ImageTag (content tags never move, so replicas take every build), or drop ReplicaRegions",
            )
        })
        .collect()
}
