//! A huge template: `cib check` reads at most 10 MiB of it and reports CIB001.

mod common;

use common::{cib, describe};

#[test]
fn a_50_mb_template_is_cib001_by_its_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("huge.yaml");
    let line = "  R0000000: {Type: AWS::CloudFormation::WaitConditionHandle}\n";
    let mut text = String::from("Resources:\n");
    while text.len() < 50 * 1024 * 1024 {
        text.push_str(line);
    }
    std::fs::write(&path, text).expect("write");
    let output = cib()
        .arg("check")
        .arg(&path)
        .args(["--format", "json"])
        .output()
        .expect("run cib");
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let finding = &report["findings"][0];
    assert_eq!(finding["id"], "CIB001");
    assert_eq!(finding["path"], "line 1, column 1");
    assert!(
        finding["message"]
            .as_str()
            .is_some_and(|m| m.contains("more than 10485760 bytes (10 MiB)")),
        "{finding}"
    );
}
