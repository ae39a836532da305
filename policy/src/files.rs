//! Reading a user's rule files: one file, or every `*.guard` / `*.ruleset` file of a
//! directory (not recursive), in name order.

use std::path::Path;

use crate::{Origin, PolicyError, RuleFile};

/// The extensions cfn-guard reads from a directory.
const EXTENSIONS: &[&str] = &["guard", "ruleset"];

/// Reads the rule file at `path`, or every rule file directly in the directory `path`.
/// A directory without rule files is an error (a typo must not pass silently).
pub fn load_rules(path: &Path) -> Result<Vec<RuleFile>, PolicyError> {
    let error = |message: String| PolicyError::Read {
        path: path.display().to_string(),
        message,
    };
    if !path.is_dir() {
        return Ok(vec![read(path)?]);
    }
    let mut paths: Vec<_> = std::fs::read_dir(path)
        .map_err(|e| error(e.to_string()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.contains(&e))
        })
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(error(
            "no *.guard or *.ruleset file in this directory".into(),
        ));
    }
    paths.iter().map(|p| read(p)).collect()
}

fn read(path: &Path) -> Result<RuleFile, PolicyError> {
    let text = std::fs::read_to_string(path).map_err(|e| PolicyError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    Ok(RuleFile {
        name: path.display().to_string(),
        text,
        origin: Origin::User,
    })
}
