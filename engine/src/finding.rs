//! Findings: what a check reports, with a stable id, the resource and the property path.

use serde::Serialize;

/// How serious a finding is. Errors stop the expansion; warnings never fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational: the template is fine, but worth knowing.
    Warning,
    /// The template cannot be deployed as written.
    Error,
}

/// One problem found in a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable check id, e.g. `CIB021`.
    pub id: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// Logical ID of the resource concerned, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Path in the template, e.g. `Resources.ApiImage.Properties.ReplicaRegions[3]`.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// One line saying how to fix it.
    pub fix: String,
    /// The policy rule that failed, for findings of a cfn-guard rule (the `cib-policy` crate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

impl Finding {
    /// An error finding.
    pub fn error(
        id: &'static str,
        resource: Option<&str>,
        path: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Finding {
            id,
            severity: Severity::Error,
            resource: resource.map(str::to_owned),
            path: path.into(),
            message: message.into(),
            fix: fix.into(),
            rule: None,
        }
    }

    /// A warning finding.
    pub fn warning(
        id: &'static str,
        resource: Option<&str>,
        path: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Finding {
            severity: Severity::Warning,
            ..Finding::error(id, resource, path, message, fix)
        }
    }

    /// True for an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let label = match &self.rule {
            Some(rule) => format!("{} {rule}", self.id),
            None => self.id.to_owned(),
        };
        if self.path.is_empty() {
            write!(f, "{level}[{label}]: {}", self.message)?;
        } else {
            write!(f, "{level}[{label}] {}: {}", self.path, self.message)?;
        }
        if !self.fix.is_empty() {
            write!(f, "\n  fix: {}", self.fix)?;
        }
        Ok(())
    }
}
