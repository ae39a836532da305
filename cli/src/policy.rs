//! `cib check`'s policy step: the pack and the user's `--rules` on the expanded template.

use std::path::PathBuf;

use cib_engine::Finding;
use cib_policy::RuleFile;
use serde_json::Value;

/// Reads every `--rules` file or directory; each one that cannot be read is a finding.
pub fn load(paths: &[PathBuf]) -> (Vec<RuleFile>, Vec<Finding>) {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match cib_policy::load_rules(path) {
            Ok(files) => rules.extend(files),
            Err(error) => errors.push(error.to_finding()),
        }
    }
    (rules, errors)
}

/// The pack's and the user's findings on `expanded`; none when there is no expansion
/// (the engine's errors already say why).
pub fn findings(expanded: Option<&Value>, rules: &[RuleFile]) -> Vec<Finding> {
    expanded.map_or_else(Vec::new, |template| cib_policy::check(template, rules))
}
