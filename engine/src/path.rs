//! Property paths as users read them: `Resources.ApiImage.Properties.ReplicaRegions[3]`.

use std::fmt;

/// A path into the template, built one key or index at a time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplatePath(String);

impl TemplatePath {
    /// The path of a resource's property block: `Resources.<id>.Properties`.
    pub fn properties_of(logical_id: &str) -> Self {
        TemplatePath(format!("Resources.{logical_id}.Properties"))
    }

    /// The path of a resource: `Resources.<id>`.
    pub fn resource(logical_id: &str) -> Self {
        TemplatePath(format!("Resources.{logical_id}"))
    }

    /// This path followed by a mapping key.
    pub fn key(&self, key: &str) -> Self {
        if self.0.is_empty() {
            TemplatePath(key.to_owned())
        } else {
            TemplatePath(format!("{}.{key}", self.0))
        }
    }

    /// This path followed by a sequence index.
    pub fn index(&self, index: usize) -> Self {
        TemplatePath(format!("{}[{index}]", self.0))
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TemplatePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<TemplatePath> for String {
    fn from(path: TemplatePath) -> String {
        path.0
    }
}
