//! Templates without `Custom::ContainerImageBuild` pass through `cib expand` unchanged.

mod common;

use std::path::{Path, PathBuf};

use common::{cib, describe};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus");

/// Every `.yaml`, `.yml` and `.json` file under `dir`, recursively, sorted.
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
            } else if matches!(common::extension(&path), "yaml" | "yml" | "json") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn templates_without_our_resource_pass_through_unchanged() {
    let templates = templates_under(Path::new(CORPUS));
    assert!(
        templates.len() >= 20,
        "expected at least 20 corpus templates in {CORPUS}, found {}",
        templates.len()
    );
    let mut failures = Vec::new();
    for path in &templates {
        let bytes = std::fs::read(path).expect("read corpus template");
        let (input, _) = cib_engine::template::parse(&bytes)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
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
        match cib_engine::template::parse(&output.stdout) {
            Ok((expanded, _)) if expanded == input => {}
            Ok(_) => failures.push(format!("{}: output differs from input", path.display())),
            Err(e) => failures.push(format!("{}: output does not parse: {e}", path.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus templates changed:\n{}",
        failures.len(),
        templates.len(),
        failures.join("\n")
    );
}
