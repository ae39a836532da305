//! Property validation against `schemas/container-image-build.json`.
//!
//! The schema file is the one source of truth: the engine embeds it, cfn-lint reads it
//! with `--registry-schemas schemas/`, and editors can use it. Values that are intrinsic
//! functions cannot be judged before deploy time, so errors at (or inside) an intrinsic
//! are dropped, as cfn-lint does.

use std::sync::OnceLock;

use jsonschema::{Validator, paths::LocationSegment};
use serde_json::Value;

use crate::checks::ids;
use crate::finding::Finding;
use crate::intrinsic::is_intrinsic;
use crate::path::TemplatePath;

/// The registry-style schema of `Custom::ContainerImageBuild`, as shipped in `schemas/`.
pub const SCHEMA_TEXT: &str = include_str!("../../schemas/container-image-build.json");

/// The parsed schema.
pub fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        // The schema is part of the build; a malformed one fails the schema tests.
        serde_json::from_str(SCHEMA_TEXT).unwrap_or(Value::Null)
    })
}

fn validator() -> Option<&'static Validator> {
    static VALIDATOR: OnceLock<Option<Validator>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            // Registry schemas carry keywords (typeName, readOnlyProperties, ...) that a
            // JSON Schema validator ignores; only the property part is validated.
            let mut schema = schema().clone();
            if let Some(map) = schema.as_object_mut() {
                for key in [
                    "typeName",
                    "readOnlyProperties",
                    "primaryIdentifier",
                    "sourceUrl",
                ] {
                    map.remove(key);
                }
                if let Some(Value::Object(props)) = map.get_mut("properties") {
                    for attribute in read_only_properties() {
                        props.remove(attribute);
                    }
                }
            }
            jsonschema::validator_for(&schema).ok()
        })
        .as_ref()
}

/// Names of the attributes listed as `readOnlyProperties` (`ImageUri`, ...).
pub fn read_only_properties() -> Vec<&'static str> {
    schema()
        .get("readOnlyProperties")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .filter_map(|p| p.strip_prefix("/properties/"))
                .collect()
        })
        .unwrap_or_default()
}

/// Names of the properties a user may set.
pub fn writable_properties() -> Vec<&'static str> {
    let read_only = read_only_properties();
    schema()
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .keys()
                .map(String::as_str)
                .filter(|name| !read_only.contains(name))
                .collect()
        })
        .unwrap_or_default()
}

/// Validates one resource's `Properties` and returns a finding per violation.
pub fn validate(logical_id: &str, properties: &Value) -> Vec<Finding> {
    let base = TemplatePath::properties_of(logical_id);
    let Some(validator) = validator() else {
        return vec![Finding::error(
            ids::SCHEMA,
            Some(logical_id),
            base,
            "the property schema shipped with this build is invalid",
            "report this as a bug",
        )];
    };
    let mut findings = Vec::new();
    for error in validator.iter_errors(properties) {
        let segments: Vec<LocationSegment<'_>> = error.instance_path().iter().collect();
        if passes_through_intrinsic(properties, &segments) {
            continue;
        }
        let path = segments
            .iter()
            .fold(base.clone(), |path, segment| match segment {
                LocationSegment::Property(key) => path.key(key),
                LocationSegment::Index(i) => path.index(*i),
            });
        findings.extend(describe(logical_id, &path, &segments, &error));
    }
    findings
}

/// True when the value at `segments` or one of its ancestors is an intrinsic function.
fn passes_through_intrinsic(root: &Value, segments: &[LocationSegment<'_>]) -> bool {
    let mut node = root;
    if is_intrinsic(node) {
        return true;
    }
    for segment in segments {
        let next = match segment {
            LocationSegment::Property(key) => node.get(key.as_ref()),
            LocationSegment::Index(i) => node.get(*i),
        };
        match next {
            Some(value) if is_intrinsic(value) => return true,
            Some(value) => node = value,
            None => return false,
        }
    }
    false
}

fn describe(
    logical_id: &str,
    path: &TemplatePath,
    segments: &[LocationSegment<'_>],
    error: &jsonschema::ValidationError<'_>,
) -> Vec<Finding> {
    use jsonschema::error::ValidationErrorKind as Kind;
    let in_build_args =
        matches!(segments.first(), Some(LocationSegment::Property(k)) if k == "BuildArgs");
    let at_source = matches!(segments, [LocationSegment::Property(k)] if k == "Source");
    match error.kind() {
        Kind::AdditionalProperties { unexpected } => {
            let known = known_keys_at(segments);
            unexpected
                .iter()
                .map(|name| {
                    let fix = match closest(name, &known) {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => format!("remove it; known properties here: {}", known.join(", ")),
                    };
                    Finding::error(
                        ids::SCHEMA,
                        Some(logical_id),
                        path.key(name),
                        format!("unknown property `{name}`"),
                        fix,
                    )
                })
                .collect()
        }
        Kind::PropertyNames { error: inner } if in_build_args => vec![Finding::error(
            ids::BUILD_ARG_NAME,
            Some(logical_id),
            // The path names the offending key, not the whole mapping.
            match inner.instance().as_str() {
                Some(name) => path.key(name),
                None => path.clone(),
            },
            format!("build argument name is not valid: {error}"),
            "build argument names match [A-Za-z_][A-Za-z0-9_]*",
        )],
        Kind::OneOfNotValid { .. } | Kind::OneOfMultipleValid { .. } if at_source => {
            vec![Finding::error(
                ids::SOURCE_FORM,
                Some(logical_id),
                path.clone(),
                "Source must have exactly one form: {S3Bucket, S3Key[, S3ObjectVersion]}, {Directory}, {Dockerfile} or {ImageTarball: path | {S3Bucket, S3Key[, S3ObjectVersion]}}",
                "keep one of the four forms",
            )]
        }
        Kind::Not { .. } if matches!(segments, [LocationSegment::Property(k)] if k == "Repository") =>
        {
            vec![Finding::error(
                ids::SCHEMA,
                Some(logical_id),
                path.clone(),
                "Repository cannot have both RepositoryName and ExistingRepositoryName",
                "use RepositoryName to create a repository, or ExistingRepositoryName to push into one",
            )]
        }
        kind => vec![Finding::error(
            ids::SCHEMA,
            Some(logical_id),
            path.clone(),
            error.to_string(),
            fix_for(kind.keyword()),
        )],
    }
}

fn fix_for(keyword: &str) -> String {
    match keyword {
        "type" => "give a value of the expected type (or an intrinsic function)",
        "enum" => "use one of the listed values",
        "required" => "add the missing property",
        "pattern" => "change the value to match the pattern",
        "minimum" | "maximum" => "use a value inside the allowed range",
        "minItems" | "maxItems" | "maxProperties" => "change the number of entries",
        "minLength" | "maxLength" => "change the length of the value",
        _ => "see schemas/container-image-build.json",
    }
    .to_owned()
}

/// The property names the schema allows at an object path (for "did you mean").
fn known_keys_at(segments: &[LocationSegment<'_>]) -> Vec<String> {
    let root = schema();
    let mut node = root;
    for segment in segments {
        let LocationSegment::Property(key) = segment else {
            return Vec::new();
        };
        let Some(next) = node.get("properties").and_then(|p| p.get(key.as_ref())) else {
            return Vec::new();
        };
        node = resolve_ref(root, next);
    }
    let read_only = read_only_properties();
    node.get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .keys()
                .filter(|k| {
                    segments.is_empty() && !read_only.contains(&k.as_str()) || !segments.is_empty()
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

fn resolve_ref<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    node.get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|pointer| root.pointer(pointer))
        .unwrap_or(node)
}

/// The known name closest to `name`, if it is close enough to be a typo.
pub fn closest<'a>(name: &str, known: &'a [String]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| {
            (
                strsim::normalized_damerau_levenshtein(&name.to_lowercase(), &k.to_lowercase()),
                k,
            )
        })
        .filter(|(score, _)| *score >= 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k.as_str())
}
