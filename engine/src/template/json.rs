//! The JSON reader (duplicate keys refused, depth bounded) and writer.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

use super::MAX_DEPTH;
use super::error::ParseError;
use super::yaml_read::deeper_than_max;

/// Parses JSON text into a template value, keeping key order.
///
/// Unlike `serde_json::from_str`, which silently keeps the last of duplicate keys, a duplicate
/// key is an error here. Nesting deeper than [`MAX_DEPTH`] is an error too.
pub(crate) fn parse_json(text: &str) -> Result<Value, ParseError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = ValueSeed { depth: 0 }
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value))
        .map_err(|e| {
            let full = e.to_string();
            let position = format!(" at line {} column {}", e.line(), e.column());
            let message = full.strip_suffix(&position).unwrap_or(&full).to_owned();
            ParseError::new(e.line(), e.column(), message)
        })?;
    Ok(value)
}

/// Writes a template value as pretty JSON: 2-space indent, key order kept, trailing newline.
pub(crate) fn to_json(value: &Value) -> String {
    format!("{value:#}\n")
}

/// Deserializes one JSON value at a given nesting depth.
struct ValueSeed {
    /// How many containers enclose the value.
    depth: usize,
}

impl ValueSeed {
    /// The seed for a container's items, or an error past [`MAX_DEPTH`].
    fn enter<E: de::Error>(&self) -> Result<ValueSeed, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(deeper_than_max()));
        }
        Ok(ValueSeed {
            depth: self.depth + 1,
        })
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.enter()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(ValueSeed { depth: inner.depth })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let inner = self.enter()?;
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate key `{key}`")));
            }
            if key.starts_with(super::UNKNOWN_TAG_MARK) {
                return Err(de::Error::custom(
                    "a key starts with a NUL character (\\u0000), which no template uses",
                ));
            }
            let value = access.next_value_seed(ValueSeed { depth: inner.depth })?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}
