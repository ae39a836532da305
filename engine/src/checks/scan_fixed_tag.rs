//! CIB081: the vulnerability gate on an image with a fixed tag.

use super::{Context, ids};
use crate::finding::Finding;
use crate::path::TemplatePath;

/// Reports images with `Scan` and a fixed `ImageTag`: the build pushes the tag before the
/// gate runs, so an image that fails the gate would already have moved the tag the stack's
/// running resources use.
pub fn check(context: &Context<'_>) -> Vec<Finding> {
    context
        .images
        .iter()
        .filter(|image| image.scan.is_some() && image.image_tag.is_some())
        .map(|image| {
            Finding::error(
                ids::SCAN_WITH_FIXED_TAG,
                Some(&image.logical_id),
                TemplatePath::properties_of(&image.logical_id).key("ImageTag"),
                "Scan with a fixed ImageTag: the gate judges the image after the push, so an image that fails it would already have taken the tag the stack's running resources pull",
                "drop ImageTag (content tags are new for every change, so a failed image never replaces a deployed one), or use ImageTagPrefix",
            )
        })
        .collect()
}
