//! The policy pack: cfn-guard rules over the *expanded* template, evaluated in-process.
//!
//! Policy-as-code tools cannot see inside a macro; this crate runs guard rules on the
//! resources the expansion writes. The pack in `policy/rules/` (embedded here, one file per
//! concern) proves the expansion's own output safe; users add rule files of their own
//! (`cib check --rules`). Both run through [`evaluate`], on the long-form JSON the engine
//! produced (cfn-guard's own YAML reading is lossy for short-form intrinsics).
//!
//! Findings carry the rule's name, the resource and the property path, and become engine
//! [`Finding`]s: [`PACK_FINDING_ID`] for the pack (a bug in the expansion),
//! [`USER_FINDING_ID`] for a user's rule, [`RULES_ERROR_ID`] for a rule file that cannot be
//! read or evaluated.
//!
//! The engine stays free of cfn-guard: only this crate, the CLI and the macro depend on it.

mod files;
mod guard;
mod pack;
mod results;

pub use files::load_rules;
pub use pack::{PACK, pack};
pub use results::PolicyFinding;

use cib_engine::Finding;
use serde_json::Value;

/// Finding id of a rule of the project's own pack that failed: the expansion wrote
/// something it must not (always an error).
pub const PACK_FINDING_ID: &str = "CIB050";

/// Finding id of a failed rule from a user's rule file (`cib check --rules`).
pub const USER_FINDING_ID: &str = "CIB051";

/// Finding id of a rule file that cannot be read, parsed or evaluated.
pub const RULES_ERROR_ID: &str = "CIB052";

/// Where a rule file comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The project's own pack (`policy/rules/`).
    Pack,
    /// A file the user named.
    User,
}

/// One guard rule file: its name (shown in findings) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFile {
    /// The file name or path, as shown in findings.
    pub name: String,
    /// The rules, in cfn-guard's language.
    pub text: String,
    /// The pack or a user's file.
    pub origin: Origin,
}

/// Why rules could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A rule file could not be read from disk.
    #[error("cannot read rule file {path}: {message}")]
    Read {
        /// The path given.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// A rule file is not valid cfn-guard.
    #[error("rule file {file} is not valid cfn-guard: {message}")]
    Parse {
        /// The rule file's name.
        file: String,
        /// cfn-guard's message, with the line and column.
        message: String,
    },
    /// cfn-guard failed (or panicked) evaluating a rule file.
    #[error("cfn-guard could not evaluate rule file {file}: {message}")]
    Evaluate {
        /// The rule file's name.
        file: String,
        /// What went wrong.
        message: String,
    },
}

impl PolicyError {
    /// The error as an error finding ([`RULES_ERROR_ID`]).
    pub fn to_finding(&self) -> Finding {
        let path = match self {
            PolicyError::Read { path, .. } => path.clone(),
            PolicyError::Parse { file, .. } | PolicyError::Evaluate { file, .. } => file.clone(),
        };
        Finding::error(
            RULES_ERROR_ID,
            None,
            path,
            self.to_string(),
            "fix the rule file (`cfn-guard validate` reports the same error)",
        )
    }
}

/// Evaluates `rules` on `template` (long-form JSON, as the engine expands it) and returns
/// every failed check. The files of one origin are evaluated together; a user's file alone,
/// so that its findings and errors name it.
pub fn evaluate(template: &Value, rules: &[RuleFile]) -> Result<Vec<PolicyFinding>, PolicyError> {
    let data = template.to_string();
    let mut findings = Vec::new();
    let pack: Vec<&RuleFile> = rules.iter().filter(|r| r.origin == Origin::Pack).collect();
    if !pack.is_empty() {
        findings.extend(guard::run(&data, &pack)?);
    }
    for file in rules.iter().filter(|r| r.origin == Origin::User) {
        findings.extend(guard::run(&data, &[file])?);
    }
    Ok(findings)
}

/// Runs the pack and then the user's `rules` on an expanded template and returns the
/// results as engine findings: one per failed check, or one [`RULES_ERROR_ID`] finding for
/// rules that could not be evaluated.
pub fn check(template: &Value, user_rules: &[RuleFile]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let pack = pack();
    for group in [pack.as_slice(), user_rules] {
        match evaluate(template, group) {
            Ok(found) => findings.extend(found.iter().map(PolicyFinding::to_finding)),
            Err(error) => findings.push(error.to_finding()),
        }
    }
    findings
}
