//! Plain-scalar rules shared by the reader and the writer.
//!
//! Reading: an unquoted, untagged scalar means what it means to CloudFormation, which reads
//! YAML 1.1 except for timestamps (see the [module documentation](super) for the sources): the
//! YAML 1.1 booleans, nulls, integers (decimal, `0b` binary, `0` octal, `0x` hex, base 60, `_`
//! separators) and floats; a timestamp stays a string. Integers beyond 64 bits and the special
//! floats (`.inf`, `.nan`), which a template value cannot hold, stay strings too.
//! Writing: a string is written plain only when no YAML 1.1 or 1.2 reader could take it for
//! anything but that same string.

use regex::Regex;
use serde_json::{Number, Value};
use std::sync::LazyLock;

/// YAML 1.1's implicit integer (the regular expression of the YAML 1.1 type repository, as
/// PyYAML spells it).
static INT_1_1: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
    )
    .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// YAML 1.1's implicit float, as PyYAML spells it.
static FLOAT_1_1: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
    )
    .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// The YAML 1.1 boolean words (the type repository lists `y`/`n` too, but PyYAML, SnakeYAML
/// and cfn-lint do not read them as booleans, and neither do we).
const TRUE_WORDS: &[&str] = &[
    "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON",
];
/// See [`TRUE_WORDS`].
const FALSE_WORDS: &[&str] = &[
    "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF",
];

/// Resolves the text of an unquoted, untagged scalar to the value CloudFormation reads.
///
/// - `""`, `~`, `null`, `Null`, `NULL` are null;
/// - `true`/`yes`/`on` and `false`/`no`/`off`, each in lower, capitalised and upper case, are
///   booleans;
/// - YAML 1.1 integers (`12`, `0755` = 493, `0x1F`, `0b101`, `1_000`, `1:30` = 90) that fit
///   in 64 bits are numbers;
/// - YAML 1.1 floats (`1.5`, `1.`, `.5`, `1_000.5`, `1.5e+3`, `1:30.5`) are numbers;
/// - anything else stays a string, among them `y`, `n`, `0o17`, `1e3`, `2010-09-09`, `.inf`,
///   `.nan` and integers beyond 64 bits.
pub(crate) fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        _ if TRUE_WORDS.contains(&text) => return Value::Bool(true),
        _ if FALSE_WORDS.contains(&text) => return Value::Bool(false),
        _ => {}
    }
    if INT_1_1.is_match(text) {
        if let Some(number) = int_1_1(text) {
            return Value::Number(number);
        }
    } else if FLOAT_1_1.is_match(text)
        && let Some(number) = float_1_1(text).and_then(Number::from_f64)
    {
        return Value::Number(number);
    }
    Value::String(text.to_owned())
}

/// The value of a YAML 1.1 integer (matched by [`INT_1_1`]), when it fits in 64 bits.
pub(crate) fn int_1_1(text: &str) -> Option<Number> {
    let cleaned: String = text.chars().filter(|&c| c != '_').collect();
    let (negative, digits) = match cleaned.as_bytes().first() {
        Some(b'-') => (true, cleaned.get(1..)?),
        Some(b'+') => (false, cleaned.get(1..)?),
        _ => (false, cleaned.as_str()),
    };
    let magnitude: u128 = if digits == "0" {
        0
    } else if let Some(bin) = digits.strip_prefix("0b") {
        u128::from_str_radix(bin, 2).ok()?
    } else if let Some(hex) = digits.strip_prefix("0x") {
        u128::from_str_radix(hex, 16).ok()?
    } else if digits.contains(':') {
        let mut total: u128 = 0;
        for part in digits.split(':') {
            total = total
                .checked_mul(60)?
                .checked_add(part.parse::<u128>().ok()?)?;
        }
        total
    } else if let Some(octal) = digits.strip_prefix('0') {
        u128::from_str_radix(octal, 8).ok()?
    } else {
        digits.parse::<u128>().ok()?
    };
    if negative {
        let value = i64::try_from(magnitude)
            .ok()
            .map(|m| -m)
            .or_else(|| (magnitude == 1u128 << 63).then_some(i64::MIN))?;
        Some(value.into())
    } else {
        u64::try_from(magnitude).ok().map(Number::from)
    }
}

/// The value of a YAML 1.1 float (matched by [`FLOAT_1_1`]); `None` for `.inf` and `.nan`.
fn float_1_1(text: &str) -> Option<f64> {
    let cleaned: String = text.chars().filter(|&c| c != '_').collect();
    let (sign, body) = match cleaned.as_bytes().first() {
        Some(b'-') => (-1.0, cleaned.get(1..)?),
        Some(b'+') => (1.0, cleaned.get(1..)?),
        _ => (1.0, cleaned.as_str()),
    };
    if body.contains(':') {
        let mut total = 0.0_f64;
        for part in body.split(':') {
            total = total * 60.0 + part.parse::<f64>().ok()?;
        }
        return Some(sign * total);
    }
    let value = body.parse::<f64>().ok()?;
    value.is_finite().then_some(sign * value)
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

/// Whether `raw`, the text of a plain scalar as read, can be written back plain on one line
/// in block context and be read as it was: no line break, no unsafe character, no leading or
/// trailing space, nothing that would end or start something else.
pub(crate) fn can_write_raw(raw: &str) -> bool {
    let indicator_start =
        raw.starts_with(['-', '?', ':']) && raw.chars().nth(1).is_none_or(|second| second == ' ');
    !raw.is_empty()
        && !indicator_start
        && raw.chars().all(is_safe_char)
        && !raw.starts_with([
            ' ', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', '[', ']', '{', '}', ',',
        ])
        && !raw.ends_with([' ', ':'])
        && !raw.contains(": ")
        && !raw.contains(" #")
        && !raw.starts_with("---")
        && !raw.starts_with("...")
}
