//! Parameter values for the properties that decide the shape of the output.
//!
//! `Platform`, `ReplicaRegions`, `ComputeType`, `TimeoutInMinutes`, `DockerServer`, the
//! user's commands and the keys of `Source`, `Repository`, `BuildArgs` and `BuildSecrets`
//! decide which resources and which buildspec the engine writes, so they must be known
//! at expansion time. A `Ref` to a template parameter is resolved from the values the
//! caller gives (the macro's `templateParameterValues`, the CLI's `--parameter-overrides`),
//! else from the parameter's `Default`.

use serde_json::{Map, Value};

use crate::intrinsic::{is_intrinsic, ref_target};
use crate::options::ExpandOptions;

/// Looks up parameter values for one template.
#[derive(Debug)]
pub struct ParameterValues<'a> {
    declared: Option<&'a Map<String, Value>>,
    given: &'a Map<String, Value>,
    region: Option<&'a str>,
}

impl<'a> ParameterValues<'a> {
    /// Parameter values of `template` as given by `options`.
    pub fn new(template: &'a Value, options: &'a ExpandOptions) -> Self {
        ParameterValues {
            declared: template.get("Parameters").and_then(Value::as_object),
            given: &options.parameters,
            region: options.region.as_deref(),
        }
    }

    /// The value of parameter (or pseudo parameter) `name`, if known.
    pub fn value(&self, name: &str) -> Option<Value> {
        if name == "AWS::Region" {
            return self.region.map(|r| Value::String(r.to_owned()));
        }
        let declaration = self.declared?.get(name)?;
        let raw = self
            .given
            .get(name)
            .or_else(|| declaration.get("Default"))?
            .clone();
        let is_list = declaration
            .get("Type")
            .and_then(Value::as_str)
            .is_some_and(|t| t == "CommaDelimitedList" || t.starts_with("List<"));
        Some(match raw {
            Value::String(text) if is_list => Value::Array(
                text.split(',')
                    .map(|item| Value::String(item.trim().to_owned()))
                    .filter(|item| item.as_str().is_some_and(|s| !s.is_empty()))
                    .collect(),
            ),
            other => other,
        })
    }

    /// Resolves `value` when it is a `Ref` to a known parameter; `Ok(None)` when it is not
    /// an intrinsic at all, `Err(())` when it is an intrinsic that cannot be resolved.
    pub fn resolve(&self, value: &Value) -> Result<Option<Value>, Unresolvable> {
        if !is_intrinsic(value) {
            return Ok(None);
        }
        let name = ref_target(value).ok_or(Unresolvable)?;
        self.value(name).map(Some).ok_or(Unresolvable)
    }
}

/// An intrinsic function whose value cannot be known at expansion time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unresolvable;

/// Converts a parameter's text to the JSON type a property expects (`"30"` → `30`,
/// `"true"` → `true`); other values are returned unchanged.
pub fn coerce(value: Value, expect: Expect) -> Value {
    match (expect, &value) {
        (Expect::Integer, Value::String(s)) => {
            s.trim().parse::<i64>().map(Value::from).unwrap_or(value)
        }
        (Expect::Boolean, Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => value,
        },
        _ => value,
    }
}

/// The JSON type a resolved property should have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A string.
    String,
    /// An integer.
    Integer,
    /// A boolean.
    Boolean,
}
