//! YAML tags: CloudFormation's short-form intrinsics (`!Ref`, `!GetAtt`, `!Sub`, ...) turned
//! into their long form, and the few YAML core tags (`!!str`, ...) a template may use.

use saphyr_parser::Tag;
use serde_json::{Map, Value};

use super::scalar::{is_decimal_float, is_decimal_int, resolve_plain};

/// The content of a node before its tag is applied.
pub(crate) enum Content {
    /// A scalar's text as written, and whether it was plain (unquoted, not a block scalar).
    Scalar {
        /// The scalar's text.
        text: String,
        /// Whether the scalar was plain.
        plain: bool,
    },
    /// A sequence's converted items.
    Sequence(Vec<Value>),
    /// A mapping's converted entries.
    Mapping(Map<String, Value>),
}

/// The short-form tags CloudFormation knows, with the key of their long form.
///
/// Besides the template functions this includes the `AWS::LanguageExtensions` functions
/// (`!Length`, `!ToJsonString`) and the functions of the `Rules` section.
const INTRINSICS: &[(&str, &str)] = &[
    ("Ref", "Ref"),
    ("Condition", "Condition"),
    ("Base64", "Fn::Base64"),
    ("Cidr", "Fn::Cidr"),
    ("FindInMap", "Fn::FindInMap"),
    ("GetAtt", "Fn::GetAtt"),
    ("GetAZs", "Fn::GetAZs"),
    ("ImportValue", "Fn::ImportValue"),
    ("Join", "Fn::Join"),
    ("Select", "Fn::Select"),
    ("Split", "Fn::Split"),
    ("Sub", "Fn::Sub"),
    ("Transform", "Fn::Transform"),
    ("And", "Fn::And"),
    ("Equals", "Fn::Equals"),
    ("If", "Fn::If"),
    ("Not", "Fn::Not"),
    ("Or", "Fn::Or"),
    ("Length", "Fn::Length"),
    ("ToJsonString", "Fn::ToJsonString"),
    ("Contains", "Fn::Contains"),
    ("EachMemberEquals", "Fn::EachMemberEquals"),
    ("EachMemberIn", "Fn::EachMemberIn"),
    ("RefAll", "Fn::RefAll"),
    ("ValueOf", "Fn::ValueOf"),
    ("ValueOfAll", "Fn::ValueOfAll"),
];

/// The handle saphyr gives `!!` tags.
const CORE_HANDLE: &str = "tag:yaml.org,2002:";

/// Converts a node's content to a value, applying its tag if it has one.
///
/// A tagged scalar keeps its text as written (`!Ref 1` is `{"Ref": "1"}`), as CloudFormation
/// and cfn-lint do. `!GetAtt A.B.C` splits on the first dot only: `["A", "B.C"]`.
/// Returns the message of the error for an unknown tag or a core tag that does not fit.
pub(crate) fn apply_tag(tag: Option<&Tag>, content: Content) -> Result<Value, String> {
    let Some(tag) = tag else {
        return Ok(untagged(content));
    };
    if tag.handle == "!" {
        if tag.suffix.is_empty() {
            // The non-specific tag `!`: a scalar is a string, a collection stays as it is.
            return Ok(match content {
                Content::Scalar { text, .. } => Value::String(text),
                other => untagged(other),
            });
        }
        let Some((short, long)) = INTRINSICS
            .iter()
            .find(|(short, _)| *short == tag.suffix)
            .copied()
        else {
            return Err(format!("unknown tag `{tag}`"));
        };
        let inner = match content {
            Content::Scalar { text, .. } if short == "GetAtt" => {
                let parts = match text.split_once('.') {
                    Some((resource, attribute)) => vec![resource.into(), attribute.into()],
                    None => vec![Value::String(text)],
                };
                Value::Array(parts)
            }
            Content::Scalar { text, .. } => Value::String(text),
            other => untagged(other),
        };
        let mut map = Map::new();
        map.insert(long.to_owned(), inner);
        return Ok(Value::Object(map));
    }
    if tag.handle == CORE_HANDLE {
        return core_tag(tag, content);
    }
    Err(format!("unknown tag `{tag}`"))
}

/// A node without a tag.
fn untagged(content: Content) -> Value {
    match content {
        Content::Scalar { text, plain: true } => resolve_plain(&text),
        Content::Scalar { text, plain: false } => Value::String(text),
        Content::Sequence(items) => Value::Array(items),
        Content::Mapping(map) => Value::Object(map),
    }
}

/// `!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!seq`, `!!map`.
fn core_tag(tag: &Tag, content: Content) -> Result<Value, String> {
    let mismatch = || format!("the value does not fit its tag `{tag}`");
    match (tag.suffix.as_str(), content) {
        ("str", Content::Scalar { text, .. }) => Ok(Value::String(text)),
        ("int", Content::Scalar { text, .. }) => match resolve_plain(&text) {
            v @ Value::Number(_) if is_decimal_int(&text) => Ok(v),
            _ => Err(mismatch()),
        },
        ("float", Content::Scalar { text, .. })
            if is_decimal_float(&text) || is_decimal_int(&text) =>
        {
            match text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
            {
                Some(n) => Ok(Value::Number(n)),
                None => Err(mismatch()),
            }
        }
        ("bool", Content::Scalar { text, .. }) => match resolve_plain(&text) {
            v @ Value::Bool(_) => Ok(v),
            _ => Err(mismatch()),
        },
        ("null", Content::Scalar { text, .. }) => match resolve_plain(&text) {
            Value::Null => Ok(Value::Null),
            _ => Err(mismatch()),
        },
        ("seq", Content::Sequence(items)) => Ok(Value::Array(items)),
        ("map", Content::Mapping(map)) => Ok(Value::Object(map)),
        ("str" | "int" | "float" | "bool" | "null" | "seq" | "map", _) => Err(mismatch()),
        _ => Err(format!("unsupported tag `{tag}`")),
    }
}
