//! CIB012: build-argument names that would override the build's own environment.
//!
//! Each build argument reaches the build as an environment variable of its own name
//! (`--build-arg NAME` reads it from there), so a name like `PATH` would break the build
//! shell and `AWS_*` would change what the AWS CLI does.

use super::{Context, ids};
use crate::finding::Finding;
use crate::path::TemplatePath;

/// Names the build environment owns.
const RESERVED_NAMES: &[&str] = &[
    "PATH",
    "HOME",
    "PWD",
    "OLDPWD",
    "SHELL",
    "USER",
    "HOSTNAME",
    "IFS",
    "TERM",
    "LANG",
    "TMPDIR",
    "SHLVL",
    "ENV",
    "CDPATH",
    "PS4",
    "GLOBIGNORE",
    "POSIXLY_CORRECT",
];

/// Prefixes the build environment owns.
const RESERVED_PREFIXES: &[&str] = &[
    "AWS_",
    "CODEBUILD_",
    "CIB_",
    "DOCKER_",
    "BUILDKIT_",
    "BUILDX_",
    "BASH",
    "LD_",
    "LC_",
];

/// True when `name` may not be used as a build argument.
pub fn is_reserved(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    RESERVED_NAMES.contains(&upper.as_str())
        || RESERVED_PREFIXES.iter().any(|p| upper.starts_with(p))
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
