//! Removing this product's entry from the template's `Transform` section.

use serde_json::{Map, Value};

/// The macro name users put in `Transform`.
pub const MACRO_NAME: &str = "ContainerImageBuild";

/// Removes `ContainerImageBuild` from `Transform`, keeping other transforms (SAM) in
/// their order, and the whole key when nothing else is left.
pub fn remove_own_transform(template: &mut Map<String, Value>) {
    let remove_key = match template.get_mut("Transform") {
        Some(Value::String(name)) => name == MACRO_NAME,
        Some(Value::Array(names)) => {
            names.retain(|n| n.as_str() != Some(MACRO_NAME));
            names.is_empty()
        }
        _ => false,
    };
    if remove_key {
        template.shift_remove("Transform");
    }
}
