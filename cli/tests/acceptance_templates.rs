//! The real-account acceptance templates (`samples/acceptance/`, run by
//! `scripts/acceptance.sh`, never by the test command) stay valid: `cib check` finds nothing
//! in them but the local sources that `cib deploy` packages first (CIB013, CIB071).

mod common;

use common::{cib, describe, repo_root};
use serde_json::Value;

/// Findings that only say a local source must be packaged, which `cib deploy` does.
const PACKAGED_BY_DEPLOY: &[&str] = &["CIB013", "CIB071"];

#[test]
fn the_acceptance_templates_check_clean_but_for_packaging() {
    let dir = repo_root().join("samples/acceptance");
    let mut templates: Vec<_> = std::fs::read_dir(&dir)
        .expect("samples/acceptance")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    templates.sort();
    assert!(templates.len() >= 3, "{templates:?}");
    for template in templates {
        let output = cib()
            .arg("check")
            .arg(&template)
            .args(["--region", "us-east-1", "--format", "json"])
            .output()
            .expect("run cib check");
        let report: Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", template.display(), describe(&output)));
        let unexpected: Vec<&Value> = report["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| !PACKAGED_BY_DEPLOY.contains(&f["id"].as_str().unwrap_or_default()))
            .collect();
        assert!(
            unexpected.is_empty(),
            "{}: {unexpected:#?}",
            template.display()
        );
    }
}
