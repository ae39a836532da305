//! CIB017: a fixed tag and a tag prefix at once.

use super::{Context, ids};
use crate::finding::Finding;
use crate::path::TemplatePath;

/// Reports images that set both `ImageTag` and `ImageTagPrefix`.
pub fn check(context: &Context<'_>) -> Vec<Finding> {
    context
        .images
        .iter()
        .filter(|image| image.image_tag.is_some() && image.image_tag_prefix.is_some())
        .map(|image| {
            Finding::error(
                ids::TAG_AND_PREFIX,
                Some(&image.logical_id),
                TemplatePath::properties_of(&image.logical_id).key("ImageTagPrefix"),
                "ImageTag and ImageTagPrefix are both set; a fixed tag has no content hash to prefix",
                "keep ImageTagPrefix (recommended: every change gets a new tag) or ImageTag",
            )
        })
        .collect()
}
