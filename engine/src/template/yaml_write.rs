//! The YAML writer: block-style YAML that YAML 1.1 readers (PyYAML, cfn-lint) and
//! CloudFormation read back as the same value.
//!
//! Intrinsics are written in their long form (`Fn::GetAtt:`), so no tags are needed. Strings
//! are plain only when [`is_plain_safe`] says so, multi-line strings are literal blocks (`|`)
//! when that is exact, and everything else is double-quoted with escapes.

use serde_json::{Map, Number, Value};
use std::fmt::Write as _;

use super::scalar::{is_decimal_float, is_plain_safe, is_safe_char};

/// Keys longer than this are written as explicit keys (`? key`): PyYAML reads a simple key of
/// at most 1024 characters.
const MAX_SIMPLE_KEY: usize = 1000;

/// Writes a template value as block-style YAML, ending with a newline.
pub(crate) fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0, false),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0, false),
        // A top-level string is never a literal block: its lines would sit at column 0.
        Value::String(s) => {
            write_quoted_or_plain(&mut out, s);
            out.push('\n');
        }
        other => {
            write_inline(&mut out, other);
            out.push('\n');
        }
    }
    out
}

/// Writes `count` spaces.
fn pad(out: &mut String, count: usize) {
    out.extend(std::iter::repeat_n(' ', count));
}

/// Writes the entries of a non-empty mapping whose keys sit at column `indent`; with
/// `first_inline` the first key follows what is already on the line (`- key: ...`).
fn write_map(out: &mut String, map: &Map<String, Value>, indent: usize, first_inline: bool) {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 || !first_inline {
            pad(out, indent);
        }
        if key.chars().count() > MAX_SIMPLE_KEY {
            out.push_str("? ");
            write_quoted(out, key);
            out.push('\n');
            pad(out, indent);
        } else {
            write_quoted_or_plain(out, key);
        }
        out.push(':');
        write_after_indicator(out, value, indent);
    }
}

/// Writes the items of a non-empty sequence whose dashes sit at column `indent`.
fn write_seq(out: &mut String, items: &[Value], indent: usize, first_inline: bool) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !first_inline {
            pad(out, indent);
        }
        out.push('-');
        match item {
            Value::Object(map) if !map.is_empty() => {
                out.push(' ');
                write_map(out, map, indent + 2, true);
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push(' ');
                write_seq(out, inner, indent + 2, true);
            }
            other => write_after_indicator(out, other, indent),
        }
    }
}

/// Writes a value after `key:` or `-`, for a node whose parent sits at column `indent`.
fn write_after_indicator(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(out, map, indent + 2, false);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, indent + 2, false);
        }
        Value::String(s) => {
            if let Some(block) = LiteralBlock::of(s) {
                out.push(' ');
                block.write(out, indent + 2);
            } else {
                out.push(' ');
                write_quoted_or_plain(out, s);
                out.push('\n');
            }
        }
        other => {
            out.push(' ');
            write_inline(out, other);
            out.push('\n');
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
