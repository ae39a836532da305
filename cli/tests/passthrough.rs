//! Templates without `Custom::ContainerImageBuild` come out of `cib expand` meaning what they
//! meant: input and output are both loaded with cfn-lint's YAML 1.1 decoder and compared.
//!
//! The corpus is the repository's own `tests/corpus/` (always run); a further corpus is run
//! when the environment variable `CIB_EXTRA_CORPUS` names its directory.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{cib, describe, repo_root};

/// Every `.yaml`, `.yml`, `.json` and `.template` file under `dir`, recursively, sorted.
fn templates_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if matches!(
                common::extension(&path),
                "yaml" | "yml" | "json" | "template"
            ) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The Python with cfn-lint: `CIB_PYTHON`, else the project venv's.
fn python() -> PathBuf {
    match std::env::var_os("CIB_PYTHON") {
        Some(python) if !python.is_empty() => PathBuf::from(python),
        _ => common::venv().join("bin/python"),
    }
}

/// A fresh, empty scratch directory for this test's outputs (unique in this process).
fn scratch(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("cib-passthrough-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Expands every template of `corpus` and returns the problems: `cib` failing, or an output
/// that cfn-lint's decoder reads differently from the input.
fn run_corpus(corpus: &Path, minimum: usize) -> Vec<String> {
    let templates = templates_under(corpus);
    println!("corpus {}: {} templates", corpus.display(), templates.len());
    assert!(
        templates.len() >= minimum,
        "expected at least {minimum} templates in {}, found {}",
        corpus.display(),
        templates.len()
    );
    let name = corpus
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let out_dir = scratch(&name);
    let mut failures = Vec::new();
    let mut pairs = Vec::new();
    for (i, path) in templates.iter().enumerate() {
        let output = cib()
            .arg("expand")
            .arg(path)
            .args(["--region", common::REGION])
            .output()
            .expect("run cib");
        if !output.status.success() {
            failures.push(format!("{}: {}", path.display(), describe(&output)));
            continue;
        }
        let written = out_dir.join(format!("{i}.{}", common::extension(path)));
        std::fs::write(&written, &output.stdout).expect("write output");
        pairs.push(serde_json::json!([
            path.display().to_string(),
            path,
            written
        ]));
    }
    failures.extend(compare(&pairs));
    let _ = std::fs::remove_dir_all(&out_dir);
    failures
}

/// Runs the cfn-lint comparison over `[label, before, after]` pairs; returns the problems.
fn compare(pairs: &[serde_json::Value]) -> Vec<String> {
    let script = repo_root().join("cli/tests/common/same_meaning.py");
    let mut child = Command::new(python())
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} (set CIB_PYTHON to a Python with cfn-lint; scripts/test.sh makes one): {e}",
                python().display()
            )
        });
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(
                serde_json::Value::from(pairs.to_vec())
                    .to_string()
                    .as_bytes(),
            )
            .expect("write to python");
    }
    let output = child.wait_with_output().expect("wait for python");
    assert!(
        output.status.success(),
        "the cfn-lint comparison failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_repository_corpus_passes_through_meaning_the_same() {
    let failures = run_corpus(&repo_root().join("tests/corpus"), 10);
    assert!(
        failures.is_empty(),
        "{} corpus templates changed meaning:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn an_extra_corpus_passes_through_when_named() {
    let Some(dir) = std::env::var_os("CIB_EXTRA_CORPUS").filter(|d| !d.is_empty()) else {
        println!("CIB_EXTRA_CORPUS is not set: no extra corpus");
        return;
    };
    let failures = run_corpus(Path::new(&dir), 1);
    assert!(
        failures.is_empty(),
        "{} templates of {} changed meaning:\n{}",
        failures.len(),
        Path::new(&dir).display(),
        failures.join("\n")
    );
}

#[test]
fn the_comparison_sees_a_changed_meaning() {
    let dir = scratch("self-check");
    let before = dir.join("before.yaml");
    let after = dir.join("after.yaml");
    std::fs::write(&before, "A: yes\nB: 0755\nC: !Rain::Embed x\n").expect("write");
    std::fs::write(&after, "A: \"yes\"\nB: 755\nC: x\n").expect("write");
    let problems = compare(&[serde_json::json!(["changed", before, after])]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(problems.len(), 1, "{problems:?}");
}
