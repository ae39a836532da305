//! What the YAML reader saw besides the values: which scalars and keys were written plain,
//! so the writer can write them back as they were.

use std::collections::{HashMap, HashSet};

/// Where a YAML template had plain scalars that a writer would otherwise write differently.
///
/// A plain scalar's text decides its meaning (`yes`, `0755`, `1:30`, `2010-09-09`, `y`): the
/// writer writes such a scalar back plain, with its text as read, wherever the value at its
/// place in the output is still the value read there. Everything else is written as the
/// writer always does. Keys use JSON pointers (`/Resources/Bucket/Properties/Tags/0/Value`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    /// Plain values by pointer: their text as read (only those the writer would not write
    /// plain as that same text).
    pub(crate) plain: HashMap<String, String>,
    /// Pointers of the mapping entries whose key was plain and would otherwise be quoted.
    pub(crate) plain_keys: HashSet<String>,
}

impl Source {
    /// How many plain scalars and keys are kept as written.
    pub fn len(&self) -> usize {
        self.plain.len() + self.plain_keys.len()
    }

    /// True when nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `parent` followed by one key or index, escaped as RFC 6901 says (`~` is `~0`, `/` is `~1`).
pub(crate) fn pointer_child(parent: &str, key: &str) -> String {
    let mut out = String::with_capacity(parent.len() + key.len() + 1);
    out.push_str(parent);
    out.push('/');
    for c in key.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}
