//! CIB085: a multi-platform image with a fixed tag.

use super::{Context, ids};
use crate::finding::Finding;
use crate::path::TemplatePath;

/// Reports multi-platform images with a fixed `ImageTag`: each platform is pushed under its
/// own content tag and the index under one hash over them all, so a fixed tag has nothing
/// to name.
pub fn check(context: &Context<'_>) -> Vec<Finding> {
    context
        .indexes
        .iter()
        .filter(|(image, _)| image.image_tag.is_some())
        .map(|(image, _)| {
            Finding::error(
                ids::MULTI_PLATFORM_FIXED_TAG,
                Some(&image.logical_id),
                TemplatePath::properties_of(&image.logical_id).key("ImageTag"),
                "a multi-platform image is tagged by content (each platform's manifest and the index over them), so a fixed ImageTag cannot be used",
                "drop ImageTag, or use ImageTagPrefix",
            )
        })
        .collect()
}
