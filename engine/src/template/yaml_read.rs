//! The YAML reader: saphyr-parser events straight into a long-form `serde_json::Value`.
//!
//! Working on events (not on a loaded YAML tree) lets the reader stop at the first problem:
//! a duplicate key, a merge key, nesting deeper than [`MAX_DEPTH`], or aliases expanding to
//! more than [`NODE_BUDGET`] nodes.

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, Span, Tag};
use serde_json::{Map, Value};
use std::collections::HashMap;

use super::error::ParseError;
use super::intrinsics::{Content, apply_tag, wrapping_key};
use super::scalar::is_plain_safe;
use super::source::{Source, pointer_child};
use super::{MAX_DEPTH, NODE_BUDGET};

/// A sequence or mapping being read.
struct Frame {
    /// Its items so far.
    body: Body,
    /// Its tag, applied when it ends.
    tag: Option<Tag>,
    /// Its anchor id (0 for none).
    anchor: usize,
    /// Where it starts.
    start: Marker,
    /// How many nodes it holds so far, itself included.
    size: usize,
    /// Its JSON pointer in the template (`""` for the root).
    pointer: String,
}

/// The items of a [`Frame`].
enum Body {
    /// A sequence's items.
    Sequence(Vec<Value>),
    /// A mapping's entries, and the key waiting for its value.
    Mapping(Map<String, Value>, Option<String>),
}

impl Frame {
    /// Whether the next node completed inside this frame is a mapping key.
    fn expects_key(&self) -> bool {
        matches!(self.body, Body::Mapping(_, None))
    }
}

/// An anchored node, kept for its aliases.
struct Anchored {
    /// The node.
    value: Value,
    /// How many nodes it holds.
    size: usize,
}

/// Reads the YAML text into a long-form value.
struct Reader {
    /// The open sequences and mappings, innermost last.
    stack: Vec<Frame>,
    /// Completed anchored nodes by anchor id.
    anchors: HashMap<usize, Anchored>,
    /// Nodes created so far, alias expansions and anchor copies included.
    nodes: usize,
    /// The document's value, once complete.
    root: Option<Value>,
    /// Documents seen.
    documents: usize,
    /// Plain scalars and keys to write back as they were.
    source: Source,
}

/// An error at a saphyr marker (1-based line, 0-based column).
fn error_at(mark: Marker, message: impl Into<String>) -> ParseError {
    ParseError::new(mark.line(), mark.col() + 1, message)
}

/// The message for nesting past [`MAX_DEPTH`].
pub(crate) fn deeper_than_max() -> String {
    format!("the template nests deeper than {MAX_DEPTH} levels")
}

/// Parses YAML text (one document) into a long-form template value, and where its plain
/// scalars were.
pub(crate) fn parse_yaml(text: &str) -> Result<(Value, Source), ParseError> {
    let mut parser = Parser::new_from_str(text);
    let mut reader = Reader {
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        root: None,
        documents: 0,
        source: Source::default(),
    };
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| {
            if e.info() == "recursion limit exceeded" {
                // saphyr-parser's own flow nesting limit, met while it scans ahead.
                error_at(*e.marker(), deeper_than_max())
            } else {
                error_at(*e.marker(), e.info())
            }
        })?;
        if reader.on_event(event, span)? {
            break;
        }
    }
    let root = reader
        .root
        .ok_or_else(|| ParseError::new(1, 1, "the template is empty"))?;
    Ok((root, reader.source))
}

impl Reader {
    /// Handles one event; returns true at the end of the stream.
    fn on_event(&mut self, event: Event<'_>, span: Span) -> Result<bool, ParseError> {
        match event {
            Event::StreamEnd => return Ok(true),
            Event::StreamStart | Event::Nothing | Event::DocumentEnd => {}
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(error_at(
                        span.start,
                        "a template is one YAML document, found a second one",
                    ));
                }
            }
            Event::Alias(id) => {
                let Some(anchored) = self.anchors.get(&id) else {
                    return Err(error_at(
                        span.start,
                        "alias to an anchor whose node is not complete (recursive alias)",
                    ));
                };
                let (value, size) = (anchored.value.clone(), anchored.size);
                self.charge(size, span.start)?;
                self.complete(value, size, 0, span.start)?;
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.charge(1, span.start)?;
                if self.stack.last().is_some_and(Frame::expects_key) {
                    let key = self.scalar_key(&text, style, tag.as_deref(), span.start)?;
                    if style == ScalarStyle::Plain && tag.is_none() && !is_plain_safe(&key) {
                        let entry = self.child_pointer_for_key(&key);
                        self.source.plain_keys.insert(entry);
                    }
                    if anchor > 0 {
                        self.anchor(anchor, Value::String(key.clone()), 1, span.start)?;
                    }
                    self.set_key(key, span.start)?;
                } else {
                    let plain = style == ScalarStyle::Plain;
                    let raw = (plain && tag.is_none()).then(|| text.to_string());
                    let content = Content::Scalar {
                        text: text.into_owned(),
                        plain,
                    };
                    let value = apply_tag(tag.as_deref(), content)
                        .map_err(|message| error_at(span.start, message))?;
                    if let Some(raw) = raw
                        && !(value.is_string() && is_plain_safe(&raw))
                    {
                        let pointer = self.child_pointer();
                        self.source.plain.insert(pointer, raw);
                    }
                    self.complete(value, 1, anchor, span.start)?;
                }
            }
            Event::SequenceStart(anchor, tag) => {
                self.open(
                    Body::Sequence(Vec::new()),
                    anchor,
                    tag.map(|t| t.into_owned()),
                    span,
                )?;
            }
            Event::MappingStart(anchor, tag) => {
                self.open(
                    Body::Mapping(Map::new(), None),
                    anchor,
                    tag.map(|t| t.into_owned()),
                    span,
                )?;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Err(error_at(span.start, "unbalanced end of a collection"));
                };
                let content = match frame.body {
                    Body::Sequence(items) => Content::Sequence(items),
                    Body::Mapping(map, None) => Content::Mapping(map),
                    Body::Mapping(_, Some(key)) => {
                        return Err(error_at(span.start, format!("key `{key}` has no value")));
                    }
                };
                let value = apply_tag(frame.tag.as_ref(), content)
                    .map_err(|message| error_at(frame.start, message))?;
                self.complete(value, frame.size, frame.anchor, frame.start)?;
            }
        }
        Ok(false)
    }

    /// Counts `size` new nodes against the budget.
    fn charge(&mut self, size: usize, at: Marker) -> Result<(), ParseError> {
        self.nodes = self.nodes.saturating_add(size);
        if self.nodes > NODE_BUDGET {
            return Err(error_at(
                at,
                format!(
                    "the template expands to more than {NODE_BUDGET} nodes \
                     (aliases expanding without bound?)"
                ),
            ));
        }
        Ok(())
    }

    /// Opens a sequence or mapping.
    fn open(
        &mut self,
        body: Body,
        anchor: usize,
        tag: Option<Tag>,
        span: Span,
    ) -> Result<(), ParseError> {
        if self.stack.last().is_some_and(Frame::expects_key) {
            return Err(error_at(
                span.start,
                "a mapping key must be a scalar, not a sequence or mapping",
            ));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(error_at(span.start, deeper_than_max()));
        }
        self.charge(1, span.start)?;
        let mut pointer = self.child_pointer();
        if let Some(key) = tag.as_ref().and_then(wrapping_key) {
            // The items of `!Equals [...]` live under `Fn::Equals` in the value.
            pointer = pointer_child(&pointer, &key);
        }
        self.stack.push(Frame {
            body,
            tag,
            anchor,
            start: span.start,
            size: 1,
            pointer,
        });
        Ok(())
    }

    /// The JSON pointer of the node that completes next (a value, not a key).
    fn child_pointer(&self) -> String {
        match self.stack.last() {
            None => String::new(),
            Some(frame) => match &frame.body {
                Body::Sequence(items) => pointer_child(&frame.pointer, &items.len().to_string()),
                Body::Mapping(_, Some(key)) => pointer_child(&frame.pointer, key),
                Body::Mapping(_, None) => frame.pointer.clone(),
            },
        }
    }

    /// The JSON pointer of the entry that `key` starts in the innermost mapping.
    fn child_pointer_for_key(&self, key: &str) -> String {
        match self.stack.last() {
            Some(frame) => pointer_child(&frame.pointer, key),
            None => String::new(),
        }
    }

    /// The text of a scalar in key position.
    fn scalar_key(
        &self,
        text: &str,
        style: ScalarStyle,
        tag: Option<&Tag>,
        at: Marker,
    ) -> Result<String, ParseError> {
        let plain = style == ScalarStyle::Plain;
        match tag {
            None => {}
            Some(t) if t.handle == "tag:yaml.org,2002:" && t.suffix == "str" => {}
            Some(t) if t.handle == "!" && t.suffix.is_empty() => {}
            Some(t) => {
                return Err(error_at(
                    at,
                    format!("a mapping key cannot have the tag `{t}`"),
                ));
            }
        }
        if plain && tag.is_none() {
            if text == "<<" {
                return Err(error_at(
                    at,
                    "merge keys (`<<`) are not supported: CloudFormation does not read them; \
                     write the keys out",
                ));
            }
            if text.is_empty() {
                return Err(error_at(at, "a mapping key is empty"));
            }
        }
        Ok(text.to_owned())
    }

    /// Gives the innermost mapping its next key.
    fn set_key(&mut self, key: String, at: Marker) -> Result<(), ParseError> {
        if let Some(Frame {
            body: Body::Mapping(map, pending),
            ..
        }) = self.stack.last_mut()
        {
            if map.contains_key(&key) {
                return Err(error_at(at, format!("duplicate key `{key}`")));
            }
            *pending = Some(key);
        }
        Ok(())
    }

    /// Keeps an anchored node for its aliases (the copy counts against the budget).
    fn anchor(
        &mut self,
        anchor: usize,
        value: Value,
        size: usize,
        at: Marker,
    ) -> Result<(), ParseError> {
        self.charge(size, at)?;
        self.anchors.insert(anchor, Anchored { value, size });
        Ok(())
    }

    /// Places a completed node (of `size` nodes) in its parent, or makes it the root.
    fn complete(
        &mut self,
        value: Value,
        size: usize,
        anchor: usize,
        at: Marker,
    ) -> Result<(), ParseError> {
        if anchor > 0 {
            self.anchor(anchor, value.clone(), size, at)?;
        }
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(value);
            return Ok(());
        };
        frame.size = frame.size.saturating_add(size);
        match &mut frame.body {
            Body::Sequence(items) => items.push(value),
            Body::Mapping(map, pending) => match pending.take() {
                Some(key) => {
                    map.insert(key, value);
                }
                None => {
                    // An alias in key position: its node must be a string.
                    let Value::String(key) = value else {
                        return Err(error_at(at, "a mapping key must be a string"));
                    };
                    self.set_key(key, at)?;
                }
            },
        }
        Ok(())
    }
}
