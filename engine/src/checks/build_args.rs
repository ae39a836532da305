//! CIB012: build-argument names that would override the build's own environment.
//!
//! Each build argument reaches the build as an environment variable of its own name
//! (`--build-arg NAME` reads it from there), so a name like `PATH` would break the build
//! shell and `AWS_*` would change what the AWS CLI does.

use super::{Context, ids};
use crate::finding::Finding;
use crate::path::TemplatePath;

/// True when `name` may not be used as a build argument (the list is shared with the
/// provider through `cib-contract`).
pub fn is_reserved(name: &str) -> bool {
    cib_contract::is_reserved_build_arg(name)
}

/// Reports reserved build-argument names.
pub fn check(context: &Context<'_>) -> Vec<Finding> {
    context
        .images
        .iter()
        .flat_map(|image| {
            image.build_args.iter().filter(|(name, _)| is_reserved(name)).map(|(name, _)| {
                Finding::error(
                    ids::BUILD_ARG_RESERVED,
                    Some(&image.logical_id),
                    TemplatePath::properties_of(&image.logical_id).key("BuildArgs").key(name),
                    format!("build argument `{name}` would override the build environment's own `{name}`"),
                    "rename the argument (and the ARG in the Dockerfile), e.g. with an APP_ prefix",
                )
            })
        })
        .collect()
}
