//! CIB080: the vulnerability gate on a repository that does not scan on push.

use serde_json::Value;

use super::{Context, ids};
use crate::finding::Finding;
use crate::path::TemplatePath;
use crate::spec::RepositorySpec;

/// Reports images with `Scan` whose repository sets `ImageScanOnPush: false`: with basic
/// scanning nothing scans the image, and the gate fails once its wait is over.
pub fn check(context: &Context<'_>) -> Vec<Finding> {
    context
        .images
        .iter()
        .filter(|image| image.scan.is_some())
        .filter(|image| {
            matches!(
                &image.repository,
                RepositorySpec::Owned {
                    scan_on_push: Value::Bool(false),
                    ..
                }
            )
        })
        .map(|image| {
            Finding::warning(
                ids::SCAN_WITHOUT_SCAN_ON_PUSH,
                Some(&image.logical_id),
                TemplatePath::properties_of(&image.logical_id)
                    .key("Repository")
                    .key("ImageScanOnPush"),
                "Scan waits for ECR's scan of the pushed image, but the repository does not scan on push: unless the registry uses enhanced scanning, no scan starts and the gate fails the deploy when its wait is over",
                "remove ImageScanOnPush: false (or turn on enhanced scanning for the registry)",
            )
        })
        .collect()
}
