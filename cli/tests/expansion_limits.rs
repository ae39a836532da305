//! What `cib expand` writes stays within CloudFormation's and CodeBuild's limits, or says
//! so: CIB042 measures the file written (pretty JSON here), and the edge fixture of
//! environment values (every project kind, long values, log groups of their own) expands
//! to a template cfn-lint accepts.

mod common;

use std::fs;

use cib_engine::template::{parse_yaml, to_json};
use common::{assert_cfn_lint_clean, cib, describe, repo_root};
use serde_json::{Map, Value};

/// The first `count` services of `samples/fifty-images.yaml`, as a JSON template.
fn services_json(count: usize) -> String {
    let text = fs::read_to_string(repo_root().join("samples/fifty-images.yaml"))
        .expect("read fifty-images sample");
    let mut template = parse_yaml(&text).expect("sample parses");
    let wanted: Vec<String> = (1..=count).map(|i| format!("Service{i:02}")).collect();
    let kept: Map<String, Value> = template["Resources"]
        .as_object()
        .expect("Resources")
        .clone()
        .into_iter()
        .filter(|(id, _)| id == "FunctionRole" || wanted.iter().any(|w| id.starts_with(w.as_str())))
        .collect();
    template["Resources"] = Value::Object(kept);
    to_json(&template)
}

#[test]
fn ten_images_in_pretty_json_are_measured_as_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("ten.json");
    fs::write(&input, services_json(10)).expect("write template");
    let output_path = dir.path().join("expanded.json");
    let output = cib()
        .arg("expand")
        .arg(&input)
        .args(["--region", "us-east-1", "-o"])
        .arg(&output_path)
        .output()
        .expect("run cib");
    assert!(output.status.success(), "{}", describe(&output));
    let size = fs::metadata(&output_path).expect("written").len();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let warned = stderr.contains("CIB042");
    assert_eq!(
        warned,
        size > 51_200,
        "{size} bytes written; CIB042 reported: {warned}\n{stderr}"
    );
    // Ten images written as pretty JSON are over the inline limit (56,024 bytes when this
    // test was written; the minified JSON that used to be measured is under it).
    assert!(warned, "{size} bytes written without CIB042\n{stderr}");
    assert!(stderr.contains(&format!("{size} bytes")), "{stderr}");
    // `cib check` of the JSON template measures the same text.
    let checked = cib()
        .arg("check")
        .arg(&input)
        .args(["--region", "us-east-1"])
        .output()
        .expect("run cib check");
    let report = String::from_utf8_lossy(&checked.stdout);
    assert_eq!(report.contains("CIB042"), warned, "{report}");
}

#[test]
fn the_environment_value_edge_fixture_expands_to_a_template_cfn_lint_accepts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let expanded = dir.path().join("edge.yaml");
    let output = cib()
        .arg("expand")
        .arg(repo_root().join("engine/tests/fixtures/env_values/edge.yaml"))
        .args(["--region", "us-east-1", "-o"])
        .arg(&expanded)
        .output()
        .expect("run cib");
    assert!(output.status.success(), "{}", describe(&output));
    assert_cfn_lint_clean(&expanded);
}
