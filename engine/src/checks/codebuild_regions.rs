//! CIB089: an environment CodeBuild does not document in the stack's region.
//!
//! `ARM_CONTAINER` (every arm64 image) and `LINUX_CONTAINER` with
//! `BUILD_GENERAL1_2XLARGE` exist only in some regions; elsewhere the
//! `AWS::CodeBuild::Project` fails to create, late in the deploy. The lists are AWS's own,
//! and AWS's pages disagree (the newer fleet page lists two more arm regions than the
//! project API reference), so both are kept here with their source and the finding is a
//! warning (a region AWS adds later is not refused).

use super::{Context, ids};
use crate::finding::Finding;
use crate::path::TemplatePath;
use crate::platform::Platform;

/// Regions where `ARM_CONTAINER` is documented: the CodeBuild API reference,
/// `ProjectEnvironment.type` ("available only in regions US East (N. Virginia), US East
/// (Ohio), US West (Oregon), EU (Ireland), Asia Pacific (Mumbai), Asia Pacific (Tokyo),
/// Asia Pacific (Sydney), and EU (Frankfurt)",
/// https://docs.aws.amazon.com/codebuild/latest/APIReference/API_ProjectEnvironment.html),
/// and `Fleet.environmentType`, which adds Asia Pacific (Singapore) and South America
/// (São Paulo) (https://docs.aws.amazon.com/codebuild/latest/APIReference/API_Fleet.html).
pub const ARM_CONTAINER_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "sa-east-1",
];

/// Regions where `LINUX_CONTAINER` with `BUILD_GENERAL1_2XLARGE` is documented: the
/// CodeBuild API reference, `ProjectEnvironment.type` ("available only in regions US East
/// (N. Virginia), US East (Ohio), US West (Oregon), Canada (Central), EU (Ireland), EU
/// (London), EU (Frankfurt), Asia Pacific (Tokyo), Asia Pacific (Seoul), Asia Pacific
/// (Singapore), Asia Pacific (Sydney), China (Beijing), and China (Ningxia)").
pub const LINUX_2XLARGE_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "ca-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-central-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "cn-north-1",
    "cn-northwest-1",
];

/// The 2XLARGE compute type.
const XXLARGE: &str = "BUILD_GENERAL1_2XLARGE";

/// Warns, per image, when the stack's region is known and lacks its environment.
pub fn check(context: &Context<'_>) -> Vec<Finding> {
    let Some(region) = context.region else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    for image in context.images.iter().filter(|i| !i.is_tarball()) {
        let environment = &image.environment;
        let path = |key: &str| TemplatePath::properties_of(&image.logical_id).key(key);
        if environment.platform == Platform::Arm64 && !ARM_CONTAINER_REGIONS.contains(&region) {
            findings.push(Finding::warning(
                ids::ENVIRONMENT_NOT_IN_REGION,
                Some(&image.logical_id),
                path("Platform"),
                format!(
                    "arm64 images build on CodeBuild's ARM_CONTAINER, which AWS documents only in {} (CodeBuild API reference, ProjectEnvironment and Fleet); in {region} the build project would fail to create",
                    ARM_CONTAINER_REGIONS.join(", ")
                ),
                "build with Platform: linux/amd64 (an x86_64 function or task) or deploy the stack in one of those regions; if CodeBuild's console offers arm64 (aarch64) images in this region, AWS added it since and the warning does not apply",
            ));
        }
        if environment.platform == Platform::Amd64
            && environment.compute_type == XXLARGE
            && !LINUX_2XLARGE_REGIONS.contains(&region)
        {
            findings.push(Finding::warning(
                ids::ENVIRONMENT_NOT_IN_REGION,
                Some(&image.logical_id),
                path("ComputeType"),
                format!(
                    "BUILD_GENERAL1_2XLARGE on LINUX_CONTAINER is documented only in {} (CodeBuild API reference, ProjectEnvironment); in {region} the build project would fail to create",
                    LINUX_2XLARGE_REGIONS.join(", ")
                ),
                "use ComputeType: BUILD_GENERAL1_XLARGE, or deploy the stack in one of those regions",
            ));
        }
    }
    findings
}
