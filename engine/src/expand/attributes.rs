//! Resource-level attributes carried over from the user's resource.

use serde_json::{Map, Value};

use crate::spec::ImageSpec;

/// Adds the image's `Condition` to a generated per-image resource.
pub fn with_condition(mut resource: Map<String, Value>, image: &ImageSpec) -> Map<String, Value> {
    if let Some(condition) = &image.attributes.condition {
        resource.insert("Condition".into(), condition.clone());
    }
    resource
}

/// Wraps `value` in `Fn::If [condition, value, AWS::NoValue]` when the image is
/// conditional, so template-wide resources only mention images that exist.
pub fn if_image_exists(image: &ImageSpec, value: Value) -> Value {
    match image.condition_name() {
        Some(condition) => serde_json::json!({
            "Fn::If": [condition, value, {"Ref": "AWS::NoValue"}]
        }),
        None => value,
    }
}

/// The user's `DependsOn` as a list, plus `extra`.
pub fn depends_on(image: &ImageSpec, extra: &[&str]) -> Option<Value> {
    let mut list: Vec<Value> = match &image.attributes.depends_on {
        Some(Value::String(one)) => vec![Value::String(one.clone())],
        Some(Value::Array(many)) => many.clone(),
        _ => Vec::new(),
    };
    for id in extra {
        if !list.iter().any(|v| v.as_str() == Some(id)) {
            list.push(Value::String((*id).to_owned()));
        }
    }
    match list.len() {
        0 => None,
        1 if extra.is_empty() => image.attributes.depends_on.clone(),
        _ => Some(Value::Array(list)),
    }
}
