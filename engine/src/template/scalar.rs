//! Plain-scalar rules shared by the reader and the writer.
//!
//! Reading: an unquoted, untagged scalar becomes a null, a boolean or a number only when it is
//! unambiguous in both YAML 1.1 (PyYAML, cfn-lint) and YAML 1.2; everything else is a string.
//! Writing: a string is written plain only when no YAML 1.1 or 1.2 reader could take it for
//! anything but that same string.

use serde_json::{Number, Value};

/// Resolves the text of an unquoted, untagged scalar to a value.
///
/// - `""`, `~`, `null`, `Null`, `NULL` are null;
/// - `true`, `True`, `TRUE`, `false`, `False`, `FALSE` are booleans;
/// - `-?(0|[1-9][0-9]*)` is an integer when it fits in 64 bits;
/// - `-?(0|[1-9][0-9]*)\.[0-9]+` optionally followed by `[eE][-+][0-9]+` is a float when finite;
/// - anything else (`yes`, `on`, `0755`, `0x1F`, `1e3`, `+1`, `1_000`, `2010-09-09`, `12:30`,
///   `.inf`, ...) stays a string.
pub(crate) fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if is_decimal_int(text) {
        if let Ok(n) = text.parse::<i64>() {
            return Value::Number(n.into());
        }
        if let Ok(n) = text.parse::<u64>() {
            return Value::Number(n.into());
        }
    } else if is_decimal_float(text)
        && let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64)
    {
        return Value::Number(n);
    }
    Value::String(text.to_owned())
}

/// `-?(0|[1-9][0-9]*)`
pub(crate) fn is_decimal_int(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    match digits.as_bytes() {
        [] => false,
        [b'0'] => true,
        [b'0', ..] => false,
        bytes => bytes.iter().all(u8::is_ascii_digit),
    }
}

/// `-?(0|[1-9][0-9]*)\.[0-9]+([eE][-+][0-9]+)?`
pub(crate) fn is_decimal_float(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (text.get(..at).unwrap_or(""), text.get(at + 1..)),
        None => (text, None),
    };
    let Some((int_part, frac)) = mantissa.split_once('.') else {
        return false;
    };
    let exponent_ok = match exponent {
        None => true,
        Some(exp) => match exp.strip_prefix(['-', '+']) {
            Some(digits) => !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
            None => false,
        },
    };
    is_decimal_int(int_part)
        && !int_part.is_empty()
        && !frac.is_empty()
        && frac.bytes().all(|b| b.is_ascii_digit())
        && exponent_ok
}

/// Words that some YAML reader (1.1 or 1.2, any case) takes for a boolean, a null or a
/// special float. Compared case-insensitively.
const RESERVED_WORDS: &[&str] = &[
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf", "infinity",
];

/// Whether `c` may appear in a plain (or literal block) scalar that every reader reads back
/// unchanged: printable, not a tab, not a YAML 1.1 line break, not a byte order mark.
pub(crate) fn is_safe_char(c: char) -> bool {
    match c {
        ' '..='~' => true,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{a0}' => false,
        '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}' => false,
        _ => !c.is_control(),
    }
}

/// Whether `text` can be written as a plain scalar (key or value, block context) and be read
/// back as the same string by PyYAML, by CloudFormation and by this crate's reader.
///
/// Deliberately conservative: it must start with an ASCII letter, `_`, `/`, `$`, `(` or a
/// non-ASCII letter (so nothing that starts with a digit, a sign, a dot or a YAML indicator is
/// plain), contain only safe characters, contain no `: ` or ` #`, not end with a space or `:`,
/// and not be one of the YAML 1.1 boolean/null words in any case.
pub(crate) fn is_plain_safe(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    let first_ok = first.is_ascii_alphabetic()
        || matches!(first, '_' | '/' | '$' | '(')
        || (!first.is_ascii() && first.is_alphabetic() && is_safe_char(first));
    first_ok
        && text.chars().all(is_safe_char)
        && !text.ends_with([' ', ':'])
        && !text.contains(": ")
        && !text.contains(" #")
        && !RESERVED_WORDS
            .iter()
            .any(|word| word.eq_ignore_ascii_case(text))
        && resolve_plain(text).is_string()
}
