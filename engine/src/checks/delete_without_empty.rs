//! CIB087: a generated repository deleted with its stack but not emptied.

use serde_json::Value;

use super::{Context, ids};
use crate::finding::Finding;
use crate::path::TemplatePath;
use crate::spec::RepositorySpec;

/// Reports images whose generated repository the stack deletes (`DeletionPolicy: Delete`)
/// without `Repository.EmptyOnDelete: true`: CloudFormation cannot delete a repository that
/// holds images unless it is emptied, so the stack's delete ends in `DELETE_FAILED` once
/// the first image is pushed.
pub fn check(context: &Context<'_>) -> Vec<Finding> {
    context
        .images
        .iter()
        .filter(|image| {
            image.attributes.deletion_policy.as_ref().and_then(Value::as_str) == Some("Delete")
                && matches!(
                    &image.repository,
                    RepositorySpec::Owned { empty_on_delete, .. }
                        if !is_true(empty_on_delete)
                )
        })
        .map(|image| {
            Finding::warning(
                ids::DELETE_WITHOUT_EMPTY,
                Some(&image.logical_id),
                TemplatePath::resource(&image.logical_id).key("DeletionPolicy"),
                "DeletionPolicy: Delete on an image whose repository is not emptied on delete: ECR refuses to delete a repository that holds images, so the stack's delete ends in DELETE_FAILED once an image is pushed",
                "add Repository: {EmptyOnDelete: true} to delete the images with the stack, or keep them with DeletionPolicy: Retain (the default)",
            )
        })
        .collect()
}

/// A literal true (boolean or CloudFormation's string form); an intrinsic counts as not
/// known to be true.
fn is_true(v: &Value) -> bool {
    matches!(v, Value::Bool(true)) || v.as_str() == Some("true")
}
