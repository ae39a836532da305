//! YAML tags: CloudFormation's short-form intrinsics (`!Ref`, `!GetAtt`, `!Sub`, ...) turned
//! into their long form, and the few YAML core tags (`!!str`, ...) a template may use.

use saphyr_parser::Tag;
use serde_json::{Map, Value};

use super::scalar::resolve_plain;

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
/// A tag cib does not know (`!Rain::Embed`, `!!binary`, ...) gives a [tagged
/// node](super::unknown_tag) holding the content (a scalar's text as written).
/// Returns the message of the error for a core tag that does not fit.
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
            return Ok(super::tagged(written_tag(tag), untagged_text(content)));
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
    if tag.handle == CORE_HANDLE && CORE_SUFFIXES.contains(&tag.suffix.as_str()) {
        return core_tag(tag, content);
    }
    Ok(super::tagged(written_tag(tag), untagged_text(content)))
}

/// The key of the one-key mapping a tagged collection becomes (`Fn::Equals` for `!Equals`,
/// the marked tag for a tag cib does not know), or `None` when the tag wraps nothing.
pub(crate) fn wrapping_key(tag: &Tag) -> Option<String> {
    if tag.handle == "!" {
        if tag.suffix.is_empty() {
            return None;
        }
        return Some(
            INTRINSICS
                .iter()
                .find(|(short, _)| *short == tag.suffix)
                .map(|(_, long)| (*long).to_owned())
                .unwrap_or_else(|| format!("{}{}", super::UNKNOWN_TAG_MARK, written_tag(tag))),
        );
    }
    if tag.handle == CORE_HANDLE && CORE_SUFFIXES.contains(&tag.suffix.as_str()) {
        return None;
    }
    Some(format!("{}{}", super::UNKNOWN_TAG_MARK, written_tag(tag)))
}

/// The core tags this reader resolves itself.
const CORE_SUFFIXES: &[&str] = &["str", "int", "float", "bool", "null", "seq", "map"];

/// How a tag cib does not know is written back: `!Name`, `!!name`, or verbatim `!<...>`.
fn written_tag(tag: &Tag) -> String {
    let plain = |text: &str| {
        !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '.' | '-' | '/'))
    };
    if tag.handle == "!" && plain(&tag.suffix) {
        format!("!{}", tag.suffix)
    } else if tag.handle == CORE_HANDLE && plain(&tag.suffix) {
        format!("!!{}", tag.suffix)
    } else {
        let mut verbatim = String::from("!<");
        for c in format!("{}{}", tag.handle, tag.suffix).chars() {
            if c.is_ascii_alphanumeric() || ";/?:@&=+$,_.~*'()[]#-!".contains(c) {
                verbatim.push(c);
            } else {
                let mut buffer = [0u8; 4];
                for byte in c.encode_utf8(&mut buffer).bytes() {
                    verbatim.push_str(&format!("%{byte:02X}"));
                }
            }
        }
        verbatim.push('>');
        verbatim
    }
}

/// The content of a node with a tag cib does not know: a scalar keeps its text as written.
fn untagged_text(content: Content) -> Value {
    match content {
        Content::Scalar { text, .. } => Value::String(text),
        other => untagged(other),
    }
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
            Value::Number(n) if !n.is_f64() => Ok(Value::Number(n)),
            _ => Err(mismatch()),
        },
        ("float", Content::Scalar { text, .. }) => match resolve_plain(&text) {
            Value::Number(n) => n
                .as_f64()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(mismatch),
            _ => Err(mismatch()),
        },
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
        _ => Err(mismatch()),
    }
}
