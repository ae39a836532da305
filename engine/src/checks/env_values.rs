//! CIB044: a literal value that cannot fit in one CodeBuild environment variable.
//!
//! CodeBuild refuses an environment variable value over 4096 characters
//! (`InvalidInputException: EnvironmentVariable should be at most 4096 characters`;
//! `cib_contract::ENV_VALUE_MAX_CHARS`), in StartBuild overrides as in projects. Each build
//! argument reaches the build as a variable of its own name, and the provider sends an
//! inline Dockerfile gzip+base64 (`CIB_INLINE_DOCKERFILE_GZ`), so a literal build-arg value
//! over the limit, or an inline Dockerfile whose gzip+base64 form is over it, would fail
//! the deploy at StartBuild. Values that are intrinsics are only known at deploy time; the
//! provider refuses those before StartBuild.

use cib_contract::ENV_VALUE_MAX_CHARS;
use serde_json::Value;

use super::{Context, ids};
use crate::expand::packed::gzip_base64_len;
use crate::finding::Finding;
use crate::path::TemplatePath;
use crate::spec::Source;

/// Reports literal build-arg values and inline Dockerfiles that cannot fit.
pub fn check(context: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for image in context.images {
        let properties = TemplatePath::properties_of(&image.logical_id);
        for (name, value) in &image.build_args {
            let Value::String(text) = value else {
                continue;
            };
            let length = text.chars().count();
            if length > ENV_VALUE_MAX_CHARS {
                findings.push(Finding::error(
                    ids::ENV_VALUE_TOO_LONG,
                    Some(&image.logical_id),
                    properties.key("BuildArgs").key(name),
                    format!(
                        "build argument `{name}` is {length} characters; it reaches the build as an environment variable, and CodeBuild allows at most {ENV_VALUE_MAX_CHARS}"
                    ),
                    "pass a shorter value (for example an S3 key or a parameter name the Dockerfile reads), or put the content in the build context",
                ));
            }
        }
        if let Source::Inline {
            dockerfile: Value::String(text),
        } = &image.source
        {
            let length = gzip_base64_len(text);
            if length > ENV_VALUE_MAX_CHARS {
                findings.push(Finding::error(
                    ids::ENV_VALUE_TOO_LONG,
                    Some(&image.logical_id),
                    properties.key("Source").key("Dockerfile"),
                    format!(
                        "the inline Dockerfile is {length} characters once gzip+base64-encoded, as it travels to the build; CodeBuild allows at most {ENV_VALUE_MAX_CHARS} per environment variable"
                    ),
                    "put the Dockerfile in a build context (Source.Directory with `cib package`, or Source.S3Bucket/S3Key)",
                ));
            }
        }
    }
    findings
}
