//! The error every template reader returns, with a 1-based line and column.

/// A template could not be read: where, and why.
///
/// `line` and `column` are 1-based; `column` counts characters, not bytes.
/// Displays as `line 3, column 5: duplicate key `Foo``.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    /// The 1-based line of the problem.
    pub line: usize,
    /// The 1-based column (in characters) of the problem.
    pub column: usize,
    /// What is wrong, without the position.
    pub message: String,
}

impl ParseError {
    /// An error at a 1-based `line` and `column`.
    pub(crate) fn new(line: usize, column: usize, message: impl Into<String>) -> Self {
        ParseError {
            line: line.max(1),
            column: column.max(1),
            message: message.into(),
        }
    }

    /// An error at byte offset `offset` of `bytes` (which need not be valid UTF-8).
    pub(crate) fn at_byte(bytes: &[u8], offset: usize, message: impl Into<String>) -> Self {
        let before = bytes.get(..offset).unwrap_or(bytes);
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |newline| newline + 1);
        let line_bytes = before.get(line_start..).unwrap_or_default();
        // Count characters: every byte that is not a UTF-8 continuation byte starts one.
        let column = line_bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count() + 1;
        ParseError::new(line, column, message)
    }
}
