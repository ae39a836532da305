//! Resolving the shape-deciding properties of one image (see `crate::params`).

use serde_json::{Map, Value};

use crate::checks::ids;
use crate::finding::Finding;
use crate::intrinsic::{function_name, is_intrinsic};
use crate::params::{Expect, ParameterValues, coerce};
use crate::path::TemplatePath;

/// Scalars that must be known at expansion time, with the type they resolve to.
pub(crate) const SHAPE_SCALARS: &[(&str, Expect)] = &[
    ("Platform", Expect::String),
    ("ComputeType", Expect::String),
    ("TimeoutInMinutes", Expect::Integer),
    ("DockerServer", Expect::Boolean),
    ("Compression", Expect::String),
];

/// Lists of strings that must be known at expansion time.
pub(crate) const SHAPE_LISTS: &[&str] = &[
    "ReplicaRegions",
    "InstallCommands",
    "PreBuildCommands",
    "PullFromRepositories",
];

/// Mappings whose keys must be known at expansion time (their values may stay intrinsic).
pub(crate) const SHAPE_MAPPINGS: &[&str] = &[
    "Source",
    "Repository",
    "BuildArgs",
    "BuildSecrets",
    "BuildLogs",
];

/// Properties that may stay unresolved: their value travels to the build as data.
const OPTIONAL_RESOLUTION: &[&str] = &["Compression"];

/// Replaces resolvable `Ref`s in the shape-deciding properties with their values, and
/// reports the ones that cannot be resolved.
pub fn resolve_shape(
    logical_id: &str,
    properties: &mut Map<String, Value>,
    parameters: &ParameterValues<'_>,
) -> Vec<Finding> {
    let base = TemplatePath::properties_of(logical_id);
    let mut findings = Vec::new();
    let unresolvable = |path: TemplatePath, value: &Value, what: &str| {
        let function = function_name(value).unwrap_or("intrinsic function");
        Finding::error(
            ids::UNRESOLVABLE,
            Some(logical_id),
            path,
            format!(
                "{what} decides the shape of the expanded template, so it must be known at expansion time, but it is `{function}`"
            ),
            "write the value, or `!Ref` a template parameter (given with --parameter-overrides, or its Default)",
        )
    };
    for (name, expect) in SHAPE_SCALARS {
        let Some(value) = properties.get_mut(*name) else {
            continue;
        };
        match parameters.resolve(value) {
            Ok(Some(resolved)) => *value = coerce(resolved, *expect),
            Ok(None) => {}
            Err(_) if OPTIONAL_RESOLUTION.contains(name) => {}
            Err(_) => findings.push(unresolvable(base.key(name), value, name)),
        }
    }
    for name in SHAPE_LISTS {
        let Some(value) = properties.get_mut(*name) else {
            continue;
        };
        match parameters.resolve(value) {
            Ok(Some(resolved)) => *value = resolved,
            Ok(None) => {}
            Err(_) => {
                findings.push(unresolvable(base.key(name), value, name));
                continue;
            }
        }
        if let Value::Array(items) = value {
            for (index, item) in items.iter_mut().enumerate() {
                match parameters.resolve(item) {
                    Ok(Some(resolved)) => *item = resolved,
                    Ok(None) => {}
                    Err(_) => findings.push(unresolvable(base.key(name).index(index), item, name)),
                }
            }
        }
    }
    for name in SHAPE_MAPPINGS {
        let Some(value) = properties.get_mut(*name) else {
            continue;
        };
        if is_intrinsic(value) {
            match parameters.resolve(value) {
                Ok(Some(resolved)) => *value = resolved,
                _ => findings.push(unresolvable(base.key(name), value, name)),
            }
        }
    }
    // A local path or the S3 form: which one decides whether `cib package` uploads it.
    if let Some(Value::Object(source)) = properties.get_mut("Source")
        && let Some(tarball) = source.get_mut("ImageTarball")
        && is_intrinsic(tarball)
    {
        match parameters.resolve(tarball) {
            Ok(Some(resolved)) => *tarball = resolved,
            _ => findings.push(unresolvable(
                base.key("Source").key("ImageTarball"),
                tarball,
                "Source.ImageTarball",
            )),
        }
    }
    if let Some(Value::Object(logs)) = properties.get_mut("BuildLogs")
        && let Some(days) = logs.get_mut("RetentionInDays")
    {
        match parameters.resolve(days) {
            Ok(Some(resolved)) => *days = coerce(resolved, Expect::Integer),
            Ok(None) => {}
            Err(_) => findings.push(unresolvable(
                base.key("BuildLogs").key("RetentionInDays"),
                days,
                "BuildLogs.RetentionInDays",
            )),
        }
    }
    findings
}
