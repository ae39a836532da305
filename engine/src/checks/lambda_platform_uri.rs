//! CIB083: a Lambda function given one platform of a multi-platform image that is not
//! its architecture (or a platform the image does not build).

use super::lambda::lambda_uses;
use super::{Context, ids};
use crate::finding::Finding;
use crate::path::TemplatePath;
use crate::platform::Platform;

/// Reports Lambda functions whose image URI is `<Image>.ImageUri.<arch>` (or
/// `ImageDigest.<arch>`) of a multi-platform image when `<arch>` is not the function's
/// architecture, as CIB030 does for single-platform images, or not a platform the image
/// builds.
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
        let Some(arch) = attribute
            .strip_prefix("ImageUri.")
            .or_else(|| attribute.strip_prefix("ImageDigest."))
        else {
            continue;
        };
        let platform = Platform::parse(&format!("linux/{arch}"));
        let built: Vec<&str> = platforms
            .iter()
            .map(|p| p.docker_name().trim_start_matches("linux/"))
            .collect();
        let id = &image.logical_id;
        match platform.filter(|p| platforms.contains(p)) {
            None => findings.push(Finding::error(
                ids::PLATFORM_URI_MISMATCH,
                Some(function),
                path,
                format!(
                    "function `{function}` is given `{id}.{attribute}`, but image `{id}` builds only {}",
                    built.join(", ")
                ),
                format!("use !GetAtt {id}.ImageUri.<arch> with one of {}", built.join(", ")),
            )),
            Some(platform) => {
                let expected = platform.lambda_architecture();
                if let Some(actual) = architecture.as_deref().filter(|a| *a != expected) {
                    let fitting = if actual == "arm64" { "arm64" } else { "amd64" };
                    findings.push(Finding::error(
                        ids::PLATFORM_URI_MISMATCH,
                        Some(function),
                        TemplatePath::properties_of(function).key("Architectures"),
                        format!(
                            "function `{function}` runs on {actual} but is given `{id}.{attribute}`, the {} manifest; it would fail at start with an exec format error",
                            platform.docker_name()
                        ),
                        format!(
                            "use !GetAtt {id}.ImageUri.{fitting}, or set Architectures: [{expected}] on the function"
                        ),
                    ));
                }
            }
        }
    }
    findings
}
