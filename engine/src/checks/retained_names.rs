//! CIB045: a repository with a fixed name that the stack retains.
//!
//! A repository the stack retains (the default `DeletionPolicy: Retain`, or
//! `RetainExceptOnCreate`) outlives the stack; a fixed `RepositoryName` then makes the
//! next deploy of the stack (after a delete, or under another stack name) fail with
//! "already exists". A generated name is unique per stack instance, so it never collides.

use serde_json::Value;

use super::{Context, ids};
use crate::finding::Finding;
use crate::path::TemplatePath;
use crate::spec::{ImageSpec, RepositorySpec};

/// Deletion policies that leave the repository behind when the stack is deleted.
const RETAINING_POLICIES: &[&str] = &["Retain", "RetainExceptOnCreate"];

/// True when the image's own repository outlives the stack (an intrinsic
/// `DeletionPolicy` cannot be judged and counts as not retained).
fn retained(image: &ImageSpec) -> bool {
    match &image.attributes.deletion_policy {
        None => true,
        Some(Value::String(policy)) => RETAINING_POLICIES.contains(&policy.as_str()),
        Some(_) => false,
    }
}

/// Reports images that name their own repository and retain it.
pub fn check(context: &Context<'_>) -> Vec<Finding> {
    context
        .images
        .iter()
        .filter(|image| {
            matches!(&image.repository, RepositorySpec::Owned { name: Some(_), .. })
                && retained(image)
        })
        .map(|image| {
            let policy = match &image.attributes.deletion_policy {
                Some(Value::String(policy)) => format!("DeletionPolicy {policy}"),
                _ => "the default DeletionPolicy Retain".to_owned(),
            };
            Finding::warning(
                ids::RETAINED_NAMED_REPOSITORY,
                Some(&image.logical_id),
                TemplatePath::properties_of(&image.logical_id)
                    .key("Repository")
                    .key("RepositoryName"),
                format!(
                    "the repository has a fixed name and {policy}: it outlives the stack, so deploying the stack again after a delete fails with \"already exists\""
                ),
                "drop RepositoryName (the generated name is unique per stack); or keep the name and, after deleting the stack, point the image at the retained repository with Repository.ExistingRepositoryName; or set DeletionPolicy: Delete with Repository.EmptyOnDelete: true",
            )
        })
        .collect()
}
