//! CIB082: a Lambda function given a multi-platform image's index.

use super::lambda::lambda_uses;
use super::{Context, ids};
use crate::finding::Finding;
use crate::platform::Platform;

/// Reports Lambda functions whose image URI is a multi-platform image's `ImageUri` (or
/// `Ref`, `ImageUriWithDigest`): Lambda does not run image indexes, only one platform's
/// manifest, named by `ImageUri.<arch>`.
pub fn check(context: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (function, path, target, attribute, architecture) in lambda_uses(context) {
        let Some((image, platforms)) = context
            .indexes
            .iter()
            .find(|(image, _)| image.logical_id == target)
        else {
            continue;
        };
        if attribute.starts_with("ImageUri.") || attribute.starts_with("ImageDigest.") {
            continue;
        }
        let wanted = match architecture.as_deref() {
            Some("arm64") => Platform::Arm64,
            _ => Platform::Amd64,
        };
        let arch = if platforms.contains(&wanted) {
            wanted
        } else {
            platforms.first().copied().unwrap_or(wanted)
        };
        let short = arch.docker_name().trim_start_matches("linux/");
        findings.push(Finding::error(
            ids::INDEX_IN_LAMBDA,
            Some(function),
            path,
            format!(
                "function `{function}` is given `{}.{attribute}`, the image index of multi-platform image `{}`; Lambda runs one platform's image manifest, not an index",
                image.logical_id, image.logical_id
            ),
            format!(
                "use !GetAtt {}.ImageUri.{short} (the {} manifest, matching Architectures: [{}])",
                image.logical_id,
                arch.docker_name(),
                arch.lambda_architecture()
            ),
        ));
    }
    findings
}
