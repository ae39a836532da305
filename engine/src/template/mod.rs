//! Reading and writing CloudFormation templates (YAML or JSON).
//!
//! The in-memory template is a [`serde_json::Value`] in CloudFormation's long form (`Ref`,
//! `Fn::GetAtt`, ...), with key order kept: everything downstream works on that.
//!
//! - [`parse`] reads bytes, telling JSON (first non-whitespace byte `{`) from YAML;
//!   [`parse_yaml`] and [`parse_json`] read text of a known format.
//! - [`to_yaml`] and [`to_json`] write a value back.
//!
//! # Why saphyr
//!
//! YAML is read with `saphyr-parser` (the event parser of the saphyr crate), which is
//! maintained and keeps tags, so every short-form intrinsic (`!Ref`, `!GetAtt`, `!Sub`, ...)
//! reaches us and is converted to the long form exactly as CloudFormation and cfn-lint do
//! (`!GetAtt A.B.C` is `["A", "B.C"]`; a tagged scalar keeps its text, so `!Ref 1` is
//! `{"Ref": "1"}`). An unknown tag is an error. Reading events (rather than a loaded tree) gives
//! raw scalar text and positions, and lets the reader refuse at once:
//! - duplicate mapping keys (and duplicate keys in JSON, which `serde_json` alone would
//!   silently drop);
//! - aliases expanding past [`NODE_BUDGET`] nodes ("billion laughs"): anchors and aliases are
//!   otherwise allowed and expanded;
//! - inputs over [`MAX_INPUT_BYTES`] (10 MiB), before anything else is done with them;
//! - nesting deeper than [`MAX_DEPTH`] levels (YAML and JSON alike), so nothing recurses deeply;
//! - more than one YAML document, and an empty one.
//!
//! saphyr's own emitter quotes the YAML 1.1 booleans (`yes`, `on`) but not, for example,
//! `2010-09-09` or `1_000`, which PyYAML reads as a date and a number; so the writer here is a
//! small emitter of its own for `serde_json::Value` that quotes conservatively.
//!
//! # Scalars
//!
//! Quoted and block scalars are always strings. A plain (unquoted, untagged) scalar is a null
//! (`~`, `null`, `Null`, `NULL`, empty), a boolean (`true`, `True`, `TRUE`, and the same for
//! false), a decimal integer (`-?(0|[1-9][0-9]*)`, 64-bit), or a decimal float
//! (`-?(0|[1-9][0-9]*)\.[0-9]+`, optionally with `[eE][-+][0-9]+`); anything that YAML 1.1 and
//! YAML 1.2 readers do not agree on stays a string: `yes`/`no`/`on`/`off`/`y`/`n`, `0755`,
//! `0x1F`, `0o17`, `1e3`, `+1`, `1_000`, `.5`, `.inf`, `12:30`, `2010-09-09`. CloudFormation
//! treats most property values as strings anyway; keeping the text exact is the safe choice.
//!
//! The writer writes a string plain only when every reader reads it back as the same string
//! (it starts with a letter, `_`, `/`, `$` or `(`, is not a boolean/null word in any case,
//! holds no `: ` or ` #`, ...); otherwise it is double-quoted. Multi-line strings (buildspecs,
//! inline Dockerfiles) are literal blocks (`|`, `|-`, `|+`) when that is exact, else
//! double-quoted with escapes. Integers stay integers; floats always carry a fractional part.
//!
//! # Merge keys
//!
//! YAML merge keys (`<<: *base`) are refused with an error: CloudFormation does not read
//! them, so a template using them would behave differently in the CLI and in CloudFormation.
//! A quoted `"<<"` is an ordinary key.

mod error;
mod intrinsics;
mod json;
mod scalar;
mod yaml_read;
mod yaml_write;

pub use error::ParseError;

use serde_json::Value;

/// The deepest nesting of sequences and mappings (YAML) or arrays and objects (JSON) read.
pub const MAX_DEPTH: usize = 100;

/// The most nodes a YAML template may expand to, aliases expanded and anchors counted.
pub const NODE_BUDGET: usize = 1_000_000;

/// The largest template read, in bytes (10 MiB): ten times what CloudFormation accepts from
/// S3 (1 MB), so no real template comes near it, while reading stays bounded in time and
/// memory. A larger input is refused before it is looked at.
pub const MAX_INPUT_BYTES: usize = 10 * 1024 * 1024;

/// The format a template was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// YAML, possibly with short-form intrinsics.
    Yaml,
    /// JSON.
    Json,
}

/// Reads a template from bytes: JSON when the first non-whitespace byte is `{`, else YAML.
///
/// A leading UTF-8 byte order mark is skipped. Invalid UTF-8 and NUL bytes are errors at their
/// position; an input over [`MAX_INPUT_BYTES`] is an error at line 1, column 1.
pub fn parse(bytes: &[u8]) -> Result<(Value, Format), ParseError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(ParseError::new(
            1,
            1,
            format!(
                "the template has more than {MAX_INPUT_BYTES} bytes (10 MiB), the most read; \
                 CloudFormation itself accepts at most 1 MB"
            ),
        ));
    }
    let bom_len = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let body = bytes.get(bom_len..).unwrap_or_default();
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        return Err(ParseError::at_byte(
            bytes,
            nul,
            format!("NUL byte at byte offset {nul}"),
        ));
    }
    let text = std::str::from_utf8(body).map_err(|e| {
        let offset = bom_len + e.valid_up_to();
        ParseError::at_byte(
            bytes,
            offset,
            format!("invalid UTF-8 at byte offset {offset}"),
        )
    })?;
    let first = text.bytes().find(|b| !b.is_ascii_whitespace());
    if first == Some(b'{') {
        Ok((parse_json(text)?, Format::Json))
    } else {
        Ok((parse_yaml(text)?, Format::Yaml))
    }
}

/// Reads a YAML template (one document), converting short-form intrinsics to the long form.
///
/// See the [module documentation](self) for scalars, tags, anchors, merge keys and limits.
pub fn parse_yaml(text: &str) -> Result<Value, ParseError> {
    yaml_read::parse_yaml(text)
}

/// Reads a JSON template, keeping key order; a duplicate key is an error.
pub fn parse_json(text: &str) -> Result<Value, ParseError> {
    json::parse_json(text)
}

/// Writes a template as block-style YAML (long-form intrinsics, no tags), ending with a newline.
///
/// PyYAML, cfn-lint, CloudFormation and [`parse_yaml`] read the output back as `value`.
pub fn to_yaml(value: &Value) -> String {
    yaml_write::to_yaml(value)
}

/// Writes a template as pretty JSON (2-space indent, key order kept), ending with a newline.
pub fn to_json(value: &Value) -> String {
    json::to_json(value)
}
