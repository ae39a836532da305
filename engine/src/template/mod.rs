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
//! `{"Ref": "1"}`). A tag cib does not know (another pre-processor's `!Rain::Embed`, or
//! `!!binary`) is kept: the node becomes a one-key mapping (see [`unknown_tag`]) that the YAML
//! writer writes back with its tag; JSON cannot hold it. Reading events (rather than a loaded tree) gives
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
//! # Scalars: what CloudFormation reads
//!
//! CloudFormation "supports the YAML Version 1.1 specification with a few exceptions": no
//! binary, omap, pairs, set or timestamp tags, no aliases, no hash merges (CloudFormation User
//! Guide, "CloudFormation template format"). So a plain (unquoted, untagged) scalar means what
//! it means in YAML 1.1, and that is what it means to cib:
//! - `yes`/`no`/`on`/`off`/`true`/`false` in lower, capitalised and upper case are booleans:
//!   `Value: YES` reaches a resource as `"true"` (aws-cli's `cloudformation package` quotes
//!   these words when it writes YAML for that reason). YAML 1.1 also lists `y`/`n`; PyYAML,
//!   SnakeYAML and cfn-lint keep them strings, and so does cib;
//! - YAML 1.1 integers are numbers: an octal-looking `0755` is 493 (CloudFormation turns an
//!   unquoted cfn-init `mode: 000400` into `"256"`: aws-samples/ecs-refarch-cloudformation
//!   issue 66), and by the same YAML 1.1 rule `0x1F`, `0b101`, `1_000` and the sexagesimal
//!   `1:30` (= 90) are numbers too;
//! - YAML 1.1 floats (`1.5`, `1.`, `.5`, `1_000.5`, `1.5e+3`) are numbers, `1e3` (no dot) is a
//!   string;
//! - a timestamp-looking `2010-09-09` stays a string: the timestamp type is one of the
//!   exceptions, and the documentation itself writes `AWSTemplateFormatVersion: 2010-09-09`;
//! - integers beyond 64 bits and `.inf`/`.nan` stay strings (a template value cannot hold
//!   them).
//!
//! Where CloudFormation's reading is not documented (`y`/`n`, hex, binary, base 60,
//! underscores, `.inf`), the YAML writer does not need to guess: [`parse_with_source`] notes
//! every plain scalar that the writer would write differently, and [`to_yaml_with_source`]
//! writes it back plain, as it was, wherever its value is unchanged. Quoted and block scalars
//! are always strings. JSON output carries the value described above.
//!
//! The writer writes any other string plain only when every reader reads it back as the same
//! string (it starts with a letter, `_`, `/`, `$` or `(`, is not a boolean/null word in any
//! case, holds no `: ` or ` #`, ...); otherwise it is double-quoted. Multi-line strings
//! (buildspecs, inline Dockerfiles) are literal blocks (`|`, `|-`, `|+`) when that is exact,
//! else double-quoted with escapes. Integers stay integers; floats always carry a fractional
//! part.
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
mod source;
mod yaml_read;
mod yaml_write;

pub use error::ParseError;
pub use source::Source;

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

/// Reads a template from bytes: JSON when the first non-whitespace byte is `{` (or YAML in
/// flow style when a key is unquoted, which JSON refuses), else YAML.
///
/// A leading UTF-8 byte order mark is skipped. Invalid UTF-8 and NUL bytes are errors at their
/// position; an input over [`MAX_INPUT_BYTES`] is an error at line 1, column 1.
pub fn parse(bytes: &[u8]) -> Result<(Value, Format), ParseError> {
    parse_with_source(bytes).map(|(value, format, _)| (value, format))
}

/// Like [`parse`], and also gives where the YAML had plain scalars, for
/// [`to_yaml_with_source`] to write them back as they were (empty for JSON).
pub fn parse_with_source(bytes: &[u8]) -> Result<(Value, Format, Source), ParseError> {
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
        // JSON, or a YAML document in flow style with unquoted keys (`{Resources: {...}}`).
        match parse_json(text) {
            Ok(value) => Ok((value, Format::Json, Source::default())),
            Err(json_error) if json_error.message.starts_with("key must be a string") => {
                match yaml_read::parse_yaml(text) {
                    Ok((value, source)) => Ok((value, Format::Yaml, source)),
                    Err(_) => Err(json_error),
                }
            }
            Err(json_error) => Err(json_error),
        }
    } else {
        let (value, source) = yaml_read::parse_yaml(text)?;
        Ok((value, Format::Yaml, source))
    }
}

/// Reads a YAML template (one document), converting short-form intrinsics to the long form.
///
/// See the [module documentation](self) for scalars, tags, anchors, merge keys and limits.
pub fn parse_yaml(text: &str) -> Result<Value, ParseError> {
    yaml_read::parse_yaml(text).map(|(value, _)| value)
}

/// Reads a JSON template, keeping key order; a duplicate key is an error.
pub fn parse_json(text: &str) -> Result<Value, ParseError> {
    json::parse_json(text)
}

/// Writes a template as block-style YAML (long-form intrinsics, no tags), ending with a newline.
///
/// PyYAML, cfn-lint, CloudFormation and [`parse_yaml`] read the output back as `value`.
pub fn to_yaml(value: &Value) -> String {
    yaml_write::to_yaml(value, &Source::default())
}

/// Like [`to_yaml`], writing the plain scalars and keys that `source` lists back as they were
/// read wherever the value there is unchanged, so CloudFormation reads them as it would have.
pub fn to_yaml_with_source(value: &Value, source: &Source) -> String {
    yaml_write::to_yaml(value, source)
}

/// The first character of the one key of a mapping that stands for a node with a tag cib
/// does not know (`!Rain::Embed file.txt` is `{"\u{0}!Rain::Embed": "file.txt"}`). No
/// template key starts with it: the readers refuse NUL bytes in YAML and such keys in JSON.
pub const UNKNOWN_TAG_MARK: char = '\u{0}';

/// A node with a tag cib does not know, `tag` as written back (`!Rain::Embed`).
pub(crate) fn tagged(tag: String, content: Value) -> Value {
    let mut map = serde_json::Map::new();
    map.insert(format!("{UNKNOWN_TAG_MARK}{tag}"), content);
    Value::Object(map)
}

/// The tag (as written, `!Rain::Embed`) and content of a node with a tag cib does not know.
pub fn unknown_tag(value: &Value) -> Option<(&str, &Value)> {
    let map = value.as_object().filter(|map| map.len() == 1)?;
    let (key, content) = map.iter().next()?;
    key.strip_prefix(UNKNOWN_TAG_MARK).map(|tag| (tag, content))
}

/// Every node of `value` with a tag cib does not know: its path
/// (`Resources.Fn.Properties.Code.ZipFile`) and its tag, in template order.
pub fn unknown_tags(value: &Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut pending = vec![(String::new(), value)];
    while let Some((path, node)) = pending.pop() {
        if let Some((tag, content)) = unknown_tag(node) {
            found.push((path.clone(), tag.to_owned()));
            pending.push((path, content));
            continue;
        }
        match node {
            Value::Object(map) => {
                for (key, child) in map.iter().rev() {
                    let child_path = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    pending.push((child_path, child));
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate().rev() {
                    pending.push((format!("{path}[{i}]"), child));
                }
            }
            _ => {}
        }
    }
    found
}

/// Writes a template as pretty JSON (2-space indent, key order kept), ending with a newline.
pub fn to_json(value: &Value) -> String {
    json::to_json(value)
}
