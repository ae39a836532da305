//! CIB040-CIB042: CloudFormation's template limits, measured after expansion.

use serde_json::Value;

use super::{Context, ids};
use crate::finding::Finding;
use crate::options::Written;
use crate::template::{to_json, to_yaml};

/// Resources per template.
pub const MAX_RESOURCES: usize = 500;
/// Template body size when deployed from S3, in bytes.
pub const MAX_TEMPLATE_BYTES: usize = 1_048_576;
/// Template body size when passed inline, in bytes.
pub const MAX_INLINE_TEMPLATE_BYTES: usize = 51_200;

/// How an image adds to the resource count, for CIB040's fix.
pub const RESOURCES_PER_IMAGE: &str = "each image adds 2 resources (its trigger and repository), 3 with a log group of its own (BuildLogs.RetentionInDays other than 30, or BuildLogs.KmsKeyId), 1 less with Repository.ExistingRepositoryName";

/// The size, in bytes, of the expanded template as it is written (`written`): the text
/// CloudFormation receives, inline or from S3.
pub fn written_size(expanded: &Value, written: Written) -> usize {
    match written {
        Written::CompactJson => serde_json::to_vec(expanded).map_or(0, |bytes| bytes.len()),
        Written::Yaml => to_yaml(expanded).len(),
        Written::PrettyJson => to_json(expanded).len(),
    }
}

fn described(written: Written) -> &'static str {
    match written {
        Written::CompactJson => "compact JSON",
        Written::Yaml => "YAML",
        Written::PrettyJson => "pretty JSON",
    }
}

/// Checks the expanded template's resource count and its size as written (YAML or
/// pretty JSON from the CLI, compact JSON from the macro).
pub fn check(context: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let count = context
        .expanded
        .get("Resources")
        .and_then(Value::as_object)
        .map_or(0, serde_json::Map::len);
    if count > MAX_RESOURCES {
        findings.push(Finding::error(
            ids::TOO_MANY_RESOURCES,
            None,
            "Resources",
            format!(
                "the expanded template has {count} resources; CloudFormation allows {MAX_RESOURCES}"
            ),
            format!("split the images across stacks ({RESOURCES_PER_IMAGE})"),
        ));
    }
    let size = written_size(context.expanded, context.written);
    if size > MAX_TEMPLATE_BYTES {
        findings.push(Finding::error(
            ids::TEMPLATE_TOO_LARGE,
            None,
            "",
            format!(
                "the expanded template is {size} bytes as written ({}); CloudFormation allows {MAX_TEMPLATE_BYTES}",
                described(context.written)
            ),
            "split the images across stacks",
        ));
    } else if size > MAX_INLINE_TEMPLATE_BYTES {
        findings.push(Finding::warning(
            ids::TEMPLATE_NEEDS_S3,
            None,
            "",
            format!(
                "the expanded template is {size} bytes as written ({}), over the {MAX_INLINE_TEMPLATE_BYTES} bytes CloudFormation accepts inline",
                described(context.written)
            ),
            "deploy it from S3 (e.g. `aws cloudformation deploy --s3-bucket ...`)",
        ));
    }
    findings
}
