//! The YAML writer: block-style YAML that YAML 1.1 readers (PyYAML, cfn-lint) and
//! CloudFormation read back as the same value.
//!
//! Intrinsics are written in their long form (`Fn::GetAtt:`), so no tags are needed (only
//! nodes with a tag cib does not know keep it). Strings
//! are plain only when [`is_plain_safe`] says so, multi-line strings are literal blocks (`|`)
//! when that is exact, and everything else is double-quoted with escapes.

use serde_json::{Map, Number, Value};
use std::fmt::Write as _;

use super::scalar::{can_write_raw, is_decimal_float, is_plain_safe, is_safe_char, resolve_plain};
use super::source::{Source, pointer_child};
use super::{UNKNOWN_TAG_MARK, unknown_tag};

/// Keys longer than this are written as explicit keys (`? key`): PyYAML reads a simple key of
/// at most 1024 characters.
const MAX_SIMPLE_KEY: usize = 1000;

/// Writes a template value as block-style YAML, ending with a newline; plain scalars and keys
/// that `source` lists are written back as they were read, and nodes with a tag cib does not
/// know keep their tag.
pub(crate) fn to_yaml(value: &Value, source: &Source) -> String {
    let mut writer = Writer {
        out: String::new(),
        source,
    };
    writer.top(value);
    writer.out
}

/// The output so far and what the reader saw.
struct Writer<'a> {
    /// The YAML written so far.
    out: String,
    /// Plain scalars and keys to write as they were.
    source: &'a Source,
}

/// Writes `count` spaces.
fn pad(out: &mut String, count: usize) {
    out.extend(std::iter::repeat_n(' ', count));
}

impl Writer<'_> {
    /// Writes the document's root.
    fn top(&mut self, value: &Value) {
        match value {
            Value::Object(map) if !map.is_empty() && unknown_tag(value).is_none() => {
                self.map(map, 0, false, "")
            }
            Value::Array(items) if !items.is_empty() => self.seq(items, 0, false, ""),
            // A top-level string is never a literal block: its lines would sit at column 0.
            Value::String(s) => {
                write_quoted_or_plain(&mut self.out, s);
                self.out.push('\n');
            }
            tagged if unknown_tag(tagged).is_some() => {
                self.out.push_str("---");
                self.after_indicator(tagged, 0, "");
            }
            other => {
                write_inline(&mut self.out, other);
                self.out.push('\n');
            }
        }
    }

    /// Writes the entries of a non-empty mapping whose keys sit at column `indent`; with
    /// `first_inline` the first key follows what is already on the line (`- key: ...`).
    fn map(&mut self, map: &Map<String, Value>, indent: usize, first_inline: bool, at: &str) {
        for (i, (key, value)) in map.iter().enumerate() {
            if i > 0 || !first_inline {
                pad(&mut self.out, indent);
            }
            let pointer = pointer_child(at, key);
            if key.chars().count() > MAX_SIMPLE_KEY {
                self.out.push_str("? ");
                write_quoted(&mut self.out, key);
                self.out.push('\n');
                pad(&mut self.out, indent);
            } else if self.source.plain_keys.contains(&pointer) && can_write_raw(key) {
                self.out.push_str(key);
            } else {
                write_quoted_or_plain(&mut self.out, key);
            }
            self.out.push(':');
            self.after_indicator(value, indent, &pointer);
        }
    }

    /// Writes the items of a non-empty sequence whose dashes sit at column `indent`.
    fn seq(&mut self, items: &[Value], indent: usize, first_inline: bool, at: &str) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 || !first_inline {
                pad(&mut self.out, indent);
            }
            self.out.push('-');
            let pointer = pointer_child(at, &i.to_string());
            match item {
                Value::Object(map) if !map.is_empty() && unknown_tag(item).is_none() => {
                    self.out.push(' ');
                    self.map(map, indent + 2, true, &pointer);
                }
                Value::Array(inner) if !inner.is_empty() => {
                    self.out.push(' ');
                    self.seq(inner, indent + 2, true, &pointer);
                }
                other => self.after_indicator(other, indent, &pointer),
            }
        }
    }

    /// Writes a value after `key:` or `-`, for a node whose parent sits at column `indent`.
    fn after_indicator(&mut self, value: &Value, indent: usize, at: &str) {
        if let Some((tag, content)) = unknown_tag(value) {
            self.out.push(' ');
            self.out.push_str(tag);
            let inner = pointer_child(at, &format!("{UNKNOWN_TAG_MARK}{tag}"));
            return self.after_indicator(content, indent, &inner);
        }
        match value {
            Value::Object(map) if !map.is_empty() => {
                self.out.push('\n');
                self.map(map, indent + 2, false, at);
            }
            Value::Array(items) if !items.is_empty() => {
                self.out.push('\n');
                self.seq(items, indent + 2, false, at);
            }
            other => {
                self.out.push(' ');
                if let Some(raw) = self.source.plain.get(at)
                    && can_write_raw(raw)
                    && resolve_plain(raw) == *other
                {
                    self.out.push_str(raw);
                    self.out.push('\n');
                } else if let Value::String(s) = other
                    && let Some(block) = LiteralBlock::of(s)
                {
                    block.write(&mut self.out, indent + 2);
                } else {
                    write_inline(&mut self.out, other);
                    self.out.push('\n');
                }
            }
        }
    }
}

/// Writes a null, a boolean, a number, a string or an empty collection on one line.
fn write_inline(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number_text(n)),
        Value::String(s) => write_quoted_or_plain(out, s),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

/// A number as text that YAML 1.1 and 1.2 readers both read as the same number.
///
/// Integers are written as they are. Floats always get a fractional part and a signed
/// exponent when they have one (`1.0`, `1.5e+20`), because PyYAML reads `1e20` as a string.
fn number_text(n: &Number) -> String {
    let text = n.to_string();
    if !n.is_f64() {
        return text;
    }
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (text.as_str(), None),
    };
    let mut fixed = mantissa.to_owned();
    if !fixed.contains('.') {
        fixed.push_str(".0");
    }
    if let Some(exp) = exponent {
        fixed.push('e');
        if !exp.starts_with(['-', '+']) {
            fixed.push('+');
        }
        fixed.push_str(exp);
    }
    if is_decimal_float(&fixed) {
        fixed
    } else {
        // Not expected for a finite f64; quoting would change the type, so keep serde's text.
        text
    }
}

/// Writes a string plain when that is safe, else double-quoted.
fn write_quoted_or_plain(out: &mut String, s: &str) {
    if is_plain_safe(s) {
        out.push_str(s);
    } else {
        write_quoted(out, s);
    }
}

/// Writes a double-quoted string, escaping what YAML 1.1 readers need escaped.
fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            ' ' => out.push(' '),
            c if is_safe_char(c) => out.push(c),
            c if u32::from(c) <= 0xFF => {
                let _ = write!(out, "\\x{:02X}", u32::from(c));
            }
            c if u32::from(c) <= 0xFFFF => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\U{:08X}", u32::from(c));
            }
        }
    }
    out.push('"');
}

/// A multi-line string that a literal block scalar (`|`) carries exactly.
struct LiteralBlock<'a> {
    /// The lines, without the trailing line breaks.
    lines: Vec<&'a str>,
    /// How many line breaks end the string.
    trailing_breaks: usize,
}

impl<'a> LiteralBlock<'a> {
    /// The block for `s`, or `None` when `s` has no line break or a literal block could not
    /// carry it exactly (unsafe characters, tabs, trailing spaces on a line, a first line that
    /// starts with a space, only line breaks).
    fn of(s: &'a str) -> Option<Self> {
        if !s.contains('\n') {
            return None;
        }
        let body = s.trim_end_matches('\n');
        let trailing_breaks = s.len() - body.len();
        let lines: Vec<&str> = body.split('\n').collect();
        let first_content = lines.iter().find(|line| !line.is_empty())?;
        let safe = !first_content.starts_with(' ')
            && lines
                .iter()
                .all(|line| !line.ends_with(' ') && line.chars().all(is_safe_char));
        safe.then_some(LiteralBlock {
            lines,
            trailing_breaks,
        })
    }

    /// Writes the header (`|`, `|-` or `|+`) and the lines at column `indent`.
    fn write(&self, out: &mut String, indent: usize) {
        out.push_str(match self.trailing_breaks {
            0 => "|-",
            1 => "|",
            _ => "|+",
        });
        out.push('\n');
        for line in &self.lines {
            if !line.is_empty() {
                pad(out, indent);
                out.push_str(line);
            }
            out.push('\n');
        }
        for _ in 1..self.trailing_breaks {
            out.push('\n');
        }
    }
}
