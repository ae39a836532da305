//! CIB070-CIB072: an image whose `Source` is an `ImageTarball` is pushed as it is by the
//! provider, with no build: properties only a build reads are refused by name, a local
//! path must be packaged first, and the repository must be one the provider may write
//! (a generated `cib/...` repository).

use serde_json::Value;

use super::ids;
use crate::finding::Finding;
use crate::options::Caller;
use crate::path::TemplatePath;
use crate::spec::{ImageSpec, RepositorySpec, Source, TarballSource};

/// Properties only a build uses: meaningless for a ready tarball.
pub const BUILD_ONLY_PROPERTIES: &[&str] = &[
    "Dockerfile",
    "Target",
    "BuildArgs",
    "BuildSecrets",
    "InstallCommands",
    "PreBuildCommands",
    "Compression",
    "DockerServer",
    "ComputeType",
    "VpcConfig",
    "CacheDisabled",
    "DockerLoginSecretArn",
    "PullThroughCachePrefixes",
    "BuildLogs",
    "TimeoutInMinutes",
    // The vulnerability gate waits in the build's final phase; a tarball has no build.
    "Scan",
];

/// The findings of one tarball image, from its resolved `properties` and its spec.
pub fn check_spec(
    logical_id: &str,
    properties: &Value,
    spec: &ImageSpec,
    caller: Caller,
) -> Vec<Finding> {
    let base = TemplatePath::properties_of(logical_id);
    let mut findings = Vec::new();
    for name in BUILD_ONLY_PROPERTIES {
        if properties.get(*name).is_some() {
            findings.push(Finding::error(
                ids::TARBALL_BUILD_PROPERTY,
                Some(logical_id),
                base.key(name),
                format!(
                    "{name} is a build setting, but this image's Source is an ImageTarball: the \
                     tarball is pushed as it is, nothing is built"
                ),
                format!("remove {name}, or build the image from a Dockerfile instead"),
            ));
        }
    }
    if let Source::ImageTarball(TarballSource::Local(_)) = &spec.source {
        let fix = match caller {
            Caller::Macro => {
                "run `cib package` (or `cib deploy`) first: it uploads the tarball and rewrites it to {S3Bucket, S3Key}"
            }
            Caller::Cli => {
                "run `cib package` first: it uploads the tarball and rewrites it to {S3Bucket, S3Key}"
            }
        };
        findings.push(Finding::error(
            ids::TARBALL_NOT_PACKAGED,
            Some(logical_id),
            base.key("Source").key("ImageTarball"),
            "a local ImageTarball path must be packaged before it can be deployed",
            fix,
        ));
    }
    let named = match &spec.repository {
        RepositorySpec::Owned { name: Some(_), .. } => Some("RepositoryName"),
        RepositorySpec::Existing { .. } => Some("ExistingRepositoryName"),
        RepositorySpec::Owned { name: None, .. } => None,
    };
    if let Some(key) = named {
        findings.push(Finding::error(
            ids::TARBALL_REPOSITORY,
            Some(logical_id),
            base.key("Repository").key(key),
            format!(
                "an ImageTarball image is pushed by the support stack's provider, which may write \
                 only the repositories the expansion names ({}/<id>-<stack uuid>), not a \
                 repository given by {key}",
                cib_contract::REPOSITORY_NAMESPACE
            ),
            "remove Repository.".to_owned() + key + " (the image's ImageUri and RepositoryName attributes give the generated name), or push it yourself with `cib push`",
        ));
    }
    findings
}
