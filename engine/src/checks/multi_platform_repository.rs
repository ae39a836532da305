//! CIB084: a multi-platform image whose repository the template does not generate.

use super::{Context, ids};
use crate::finding::Finding;
use crate::path::TemplatePath;
use crate::spec::RepositorySpec;

/// Reports multi-platform images with `Repository.RepositoryName` or
/// `Repository.ExistingRepositoryName`: the provider writes the index only into the stack's
/// own generated repositories (`cib/<id>-<stack uuid>`), the namespace its role may write.
pub fn check(context: &Context<'_>) -> Vec<Finding> {
    context
        .indexes
        .iter()
        .filter_map(|(image, _)| {
            let key = match &image.repository {
                RepositorySpec::Existing { .. } => "ExistingRepositoryName",
                RepositorySpec::Owned { name: Some(_), .. } => "RepositoryName",
                RepositorySpec::Owned { name: None, .. } => return None,
            };
            Some(Finding::error(
                ids::MULTI_PLATFORM_NAMED_REPOSITORY,
                Some(&image.logical_id),
                TemplatePath::properties_of(&image.logical_id)
                    .key("Repository")
                    .key(key),
                format!("a multi-platform image needs the repository the template generates for it, and `{key}` names another one; the provider writes image indexes only into the stack's own cib/<id>-<stack uuid> repositories"),
                format!("drop Repository.{key} (or build a single Platform into it)"),
            ))
        })
        .collect()
}
