//! Every check of the catalog has a fixture pair under `tests/fixtures/checks/<ID>/`:
//! `bad.yaml` produces the check, `good.yaml` does not (and, for an error-level check,
//! expands without any error). A check added to `CATALOG` without fixtures fails here.
//!
//! Options come from `options.json` beside the fixtures (both files), and
//! `options.good.json` for `good.yaml` when it differs:
//! `{"region": "us-east-1", "caller": "macro" | "cli", "parameters": {"Name": "value"}}`.
//! For `CIB001`, a parse error of `bad.yaml` counts as the finding.

use std::collections::BTreeSet;
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use cib_engine::checks::{CATALOG, ids};
use cib_engine::{Caller, ExpandOptions, Finding, Severity, template};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/checks")
}

/// Reads the options file `name` of a fixture directory (defaults when absent).
fn options(dir: &Path, name: &str) -> Result<ExpandOptions, String> {
    let path = dir.join(name);
    if !path.exists() {
        return Ok(ExpandOptions::default());
    }
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let value: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let Value::Object(map) = value else {
        return Err(format!("{}: not a JSON object", path.display()));
    };
    let mut options = ExpandOptions::default();
    for (key, value) in map {
        match (key.as_str(), value) {
            ("region", Value::String(region)) => options.region = Some(region),
            ("caller", Value::String(caller)) => {
                options.caller = match caller.as_str() {
                    "macro" => Caller::Macro,
                    "cli" => Caller::Cli,
                    other => return Err(format!("{}: unknown caller {other:?}", path.display())),
                }
            }
            ("parameters", Value::Object(parameters)) => options.parameters = parameters,
            ("provider_arn", Value::String(arn)) => options.provider_arn = Some(arn),
            (other, _) => {
                return Err(format!(
                    "{}: unknown or mistyped key {other:?}",
                    path.display()
                ));
            }
        }
    }
    Ok(options)
}

/// What a fixture gives: the findings of its expansion, or the parse error as a CIB001.
fn findings(file: &Path, options: &ExpandOptions) -> Result<(Vec<Finding>, bool), String> {
    let bytes = fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    match template::parse(&bytes) {
        Err(error) => Ok((
            vec![Finding::error(
                ids::PARSE,
                None,
                "",
                error.to_string(),
                "fix the syntax",
            )],
            false,
        )),
        Ok((value, _)) => {
            let outcome = cib_engine::expand(&value, options);
            if outcome.has_errors() == outcome.template.is_some() {
                return Err(format!(
                    "{}: template presence does not match the errors",
                    file.display()
                ));
            }
            let produced = outcome.template.is_some();
            Ok((outcome.findings, produced))
        }
    }
}

fn show(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("    {f}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Checks one catalog entry's fixtures; returns its problems.
fn check(id: &str, severity: Severity) -> Result<Vec<String>, String> {
    let dir = fixtures().join(id);
    let mut problems = Vec::new();
    for file in ["bad.yaml", "good.yaml"] {
        if !dir.join(file).is_file() {
            problems.push(format!("missing {}", dir.join(file).display()));
        }
    }
    if !problems.is_empty() {
        return Ok(problems);
    }
    let bad_options = options(&dir, "options.json")?;
    let good_options = if dir.join("options.good.json").exists() {
        options(&dir, "options.good.json")?
    } else {
        bad_options.clone()
    };

    let (bad, produced) = findings(&dir.join("bad.yaml"), &bad_options)?;
    match bad.iter().find(|f| f.id == id) {
        None => problems.push(format!(
            "bad.yaml does not produce {id}; findings:\n{}",
            show(&bad)
        )),
        Some(finding) => {
            if finding.severity != severity {
                problems.push(format!(
                    "bad.yaml reports {id} as {:?}, the catalog says {severity:?}",
                    finding.severity
                ));
            }
            if severity == Severity::Error && produced {
                problems.push("bad.yaml produced a template despite the error".into());
            }
        }
    }

    let (good, produced) = findings(&dir.join("good.yaml"), &good_options)?;
    if good.iter().any(|f| f.id == id) {
        problems.push(format!("good.yaml still produces {id}:\n{}", show(&good)));
    }
    if severity == Severity::Error {
        let errors: Vec<Finding> = good.iter().filter(|f| f.is_error()).cloned().collect();
        if !errors.is_empty() || !produced {
            problems.push(format!("good.yaml has errors:\n{}", show(&errors)));
        }
    }
    Ok(problems)
}

#[test]
fn every_catalog_check_has_a_bad_and_a_good_fixture() {
    let mut failures = Vec::new();
    for info in CATALOG {
        let result = catch_unwind(AssertUnwindSafe(|| check(info.id, info.severity)));
        match result {
            Ok(Ok(problems)) if problems.is_empty() => {}
            Ok(Ok(problems)) => failures.push(format!("{}:\n  {}", info.id, problems.join("\n  "))),
            Ok(Err(error)) => failures.push(format!("{}: {error}", info.id)),
            Err(_) => failures.push(format!("{}: PANICKED", info.id)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_fixture_directory_names_a_catalog_check() {
    let known: BTreeSet<&str> = CATALOG.iter().map(|c| c.id).collect();
    let allowed: BTreeSet<&str> =
        ["bad.yaml", "good.yaml", "options.json", "options.good.json"].into();
    let mut stray = Vec::new();
    let entries = fs::read_dir(fixtures()).expect("tests/fixtures/checks exists");
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !known.contains(name.as_str()) {
            stray.push(name.clone());
        }
        if let Ok(files) = fs::read_dir(entry.path()) {
            for file in files.flatten() {
                let file_name = file.file_name().to_string_lossy().into_owned();
                if !allowed.contains(file_name.as_str()) {
                    stray.push(format!("{name}/{file_name}"));
                }
            }
        }
    }
    assert!(
        stray.is_empty(),
        "fixtures that no catalog check reads: {stray:?}"
    );
}

#[test]
fn catalog_ids_are_unique_and_in_order() {
    let list: Vec<&str> = CATALOG.iter().map(|c| c.id).collect();
    let mut sorted = list.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(list, sorted, "CATALOG ids must be unique and sorted");
}
