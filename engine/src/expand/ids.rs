//! Logical IDs of the generated resources, and the collision check.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::checks::ids;
use crate::finding::Finding;
use crate::path::TemplatePath;
use crate::spec::{BuildEnvironment, ImageSpec, RepositorySpec};

/// The CodeBuild service role shared by every build of the template.
pub const ROLE: &str = "ContainerImageBuildRole";
/// The replication resource of the template.
pub const REPLICATION: &str = "ContainerImageBuildReplication";
/// The build log group of the template.
pub const LOG_GROUP: &str = "ContainerImageBuildLogGroup";
/// Prefix of the shared CodeBuild projects.
pub const PROJECT_PREFIX: &str = "ContainerImageBuildProject";
/// The template's registry-cache repository (only when some image uses the cache).
pub const CACHE: &str = "ContainerImageBuildCache";

/// The repository of image `logical_id`.
pub fn repository(logical_id: &str) -> String {
    format!("{logical_id}Repository")
}

/// The log group of image `logical_id` (only when its `BuildLogs` differ from the
/// template group's).
pub fn log_group(logical_id: &str) -> String {
    format!("{logical_id}LogGroup")
}

/// Assigns each distinct build environment its project's logical ID: `<prefix>Amd64`,
/// or, when several environments share a platform, that plus a short hash of the
/// environment (stable whatever the order of the images).
pub fn projects(images: &[ImageSpec]) -> Vec<(BuildEnvironment, String)> {
    let mut distinct: Vec<BuildEnvironment> = Vec::new();
    for image in images {
        if !distinct.contains(&image.environment) {
            distinct.push(image.environment.clone());
        }
    }
    let mut per_platform: BTreeMap<&'static str, usize> = BTreeMap::new();
    for env in &distinct {
        *per_platform.entry(env.platform.id_suffix()).or_default() += 1;
    }
    distinct
        .iter()
        .map(|env| {
            let suffix = env.platform.id_suffix();
            let id = if per_platform.get(suffix).copied().unwrap_or(0) > 1 {
                format!("{PROJECT_PREFIX}{suffix}{}", short_hash(env))
            } else {
                format!("{PROJECT_PREFIX}{suffix}")
            };
            (env.clone(), id)
        })
        .collect()
}

fn short_hash(env: &BuildEnvironment) -> String {
    use sha2::{Digest, Sha256};
    let canonical = serde_json::json!([
        env.platform.docker_name(),
        env.compute_type,
        env.vpc_config,
        env.docker_server
    ]);
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    hex::encode(digest)
        .chars()
        .take(8)
        .collect::<String>()
        .to_uppercase()
}

/// Every logical ID the expansion will add, with the image (if any) that causes it.
pub fn generated(
    images: &[ImageSpec],
    needs_replication: bool,
    needs_cache: bool,
) -> Vec<(String, Option<String>)> {
    let built: Vec<ImageSpec> = images.iter().filter(|i| !i.is_tarball()).cloned().collect();
    let mut out = if built.is_empty() {
        Vec::new()
    } else {
        vec![(ROLE.to_owned(), None), (LOG_GROUP.to_owned(), None)]
    };
    for image in images {
        if matches!(image.repository, RepositorySpec::Owned { .. }) {
            out.push((
                repository(&image.logical_id),
                Some(image.logical_id.clone()),
            ));
        }
        if super::log_group::has_own_group(image) {
            out.push((log_group(&image.logical_id), Some(image.logical_id.clone())));
        }
    }
    out.extend(projects(&built).into_iter().map(|(_, id)| (id, None)));
    if needs_replication {
        out.push((REPLICATION.to_owned(), None));
    }
    if needs_cache {
        out.push((CACHE.to_owned(), None));
    }
    out
}

/// CloudFormation's longest logical ID.
pub const MAX_LOGICAL_ID_LENGTH: usize = 255;

/// Reports each generated ID that the user's template already uses, or that is longer
/// than CloudFormation allows.
pub fn collisions(
    resources: &Map<String, Value>,
    generated: &[(String, Option<String>)],
) -> Vec<Finding> {
    let too_long = generated
        .iter()
        .filter(|(id, _)| id.len() > MAX_LOGICAL_ID_LENGTH)
        .filter_map(|(id, cause)| cause.as_ref().map(|image| (id, image)))
        .map(|(id, image)| {
            Finding::error(
                ids::ID_COLLISION,
                Some(image),
                TemplatePath::resource(image),
                format!(
                    "the generated logical ID `{id}` is {} characters long; CloudFormation allows {MAX_LOGICAL_ID_LENGTH}",
                    id.len()
                ),
                format!(
                    "shorten the image's logical ID to at most {} characters",
                    MAX_LOGICAL_ID_LENGTH - (id.len() - image.len())
                ),
            )
        });
    generated
        .iter()
        .filter(|(id, _)| resources.contains_key(id))
        .map(|(id, cause)| {
            let reason = match cause {
                Some(image) => {
                    format!("the expansion of `{image}` creates a resource with this ID")
                }
                None => "the expansion creates a template-wide resource with this ID".to_owned(),
            };
            Finding::error(
                ids::ID_COLLISION,
                Some(id),
                TemplatePath::resource(id),
                format!("logical ID `{id}` is already used in the template; {reason}"),
                "rename your resource (or the image) so the IDs differ",
            )
        })
        .chain(too_long)
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::checks::ids;
    use crate::{ExpandOptions, expand, template};

    fn expand_with_id(id: &str) -> crate::Outcome {
        let text = format!(
            "Resources:\n  {id}:\n    Type: Custom::ContainerImageBuild\n    Properties:\n      Source: {{S3Bucket: b, S3Key: k.zip}}\n"
        );
        let (value, _) = template::parse(text.as_bytes()).expect("test template parses");
        expand(&value, &ExpandOptions::default())
    }

    #[test]
    fn an_image_id_whose_repository_id_would_exceed_255_characters_is_refused() {
        let id = "A".repeat(246);
        let outcome = expand_with_id(&id);
        assert!(outcome.template.is_none());
        let finding = outcome
            .findings
            .iter()
            .find(|f| f.id == ids::ID_COLLISION)
            .expect("CIB015 finding");
        assert_eq!(finding.path, format!("Resources.{id}"));
        assert!(
            finding.message.contains("256 characters"),
            "{}",
            finding.message
        );
        assert!(finding.fix.contains("at most 245"), "{}", finding.fix);
    }

    #[test]
    fn an_image_id_of_245_characters_still_expands() {
        let outcome = expand_with_id(&"A".repeat(245));
        assert!(outcome.template.is_some(), "{:?}", outcome.findings);
    }
}
