//! `cib check` with the policy pack and the user's `--rules`: findings name the rule, the
//! resource and the path, in text, JSON and SARIF.

mod common;

use std::process::Output;

use common::{cib, describe};
use serde_json::Value;

/// An arm64 image without a ComputeType: its project defaults to BUILD_GENERAL1_LARGE.
const ARM64_SAMPLE: &str = "samples/minimal-lambda.yaml";
const NO_LARGE: &str = "cli/tests/fixtures/rules/no-large-builds.guard";
const LARGE_PATH: &str =
    "Resources.ContainerImageBuildProjectArm64.Properties.Environment.ComputeType";

fn check(args: &[&str]) -> Output {
    cib()
        .arg("check")
        .args(args)
        .args(["--region", "us-east-1"])
        .output()
        .expect("run cib")
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", describe(output)))
}

#[test]
fn the_pack_passes_a_sample_and_the_user_rule_catches_the_arm64_default() {
    let plain = check(&[ARM64_SAMPLE]);
    assert!(plain.status.success(), "{}", describe(&plain));

    let output = check(&[ARM64_SAMPLE, "--rules", NO_LARGE]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains(&format!("error[CIB051 no_large_builds] {LARGE_PATH}: BUILD_GENERAL1_LARGE builds are not allowed")),
        "{text}"
    );
    assert!(
        text.contains("fix: set ComputeType: BUILD_GENERAL1_MEDIUM"),
        "{text}"
    );

    let report = json(&check(&[
        ARM64_SAMPLE,
        "--rules",
        NO_LARGE,
        "--format",
        "json",
    ]));
    let finding = &report["findings"][0];
    assert_eq!(finding["id"], "CIB051");
    assert_eq!(finding["rule"], "no_large_builds");
    assert_eq!(finding["resource"], "ContainerImageBuildProjectArm64");
    assert_eq!(finding["path"], LARGE_PATH);
    assert_eq!(report["errors"], 1);
}

#[test]
fn a_directory_of_rules_is_read_and_flags_repeat() {
    let output = check(&[
        ARM64_SAMPLE,
        "--rules",
        "cli/tests/fixtures/rules",
        "--rules",
        NO_LARGE,
        "--format",
        "json",
    ]);
    let report = json(&output);
    assert_eq!(report["errors"], 2, "{}", describe(&output));
}

#[test]
fn an_unreadable_or_invalid_rule_file_is_an_error_finding() {
    let output = check(&[
        ARM64_SAMPLE,
        "--rules",
        "no/such/rules.guard",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json(&output)["findings"][0]["id"], "CIB052");

    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.guard");
    std::fs::write(&bad, "rule broken {\n  Resources.*.Type == \n").expect("write");
    let bad = bad.to_string_lossy().into_owned();
    let output = check(&[ARM64_SAMPLE, "--rules", &bad, "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let finding = &json(&output)["findings"][0];
    assert_eq!(finding["id"], "CIB052");
    assert!(
        finding["message"]
            .as_str()
            .is_some_and(|m| m.contains("not valid cfn-guard")),
        "{finding}"
    );
}

#[test]
fn sarif_output_is_a_sarif_2_1_0_log_with_rule_names() {
    let output = check(&[ARM64_SAMPLE, "--rules", NO_LARGE, "--format", "sarif"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let log = json(&output);
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "cib");
    let result = &run["results"][0];
    assert_eq!(result["ruleId"], "no_large_builds");
    assert_eq!(result["level"], "error");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        ARM64_SAMPLE
    );
    assert_eq!(
        result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        LARGE_PATH
    );

    let clean = check(&[ARM64_SAMPLE, "--format", "sarif"]);
    assert!(clean.status.success(), "{}", describe(&clean));
    assert_eq!(json(&clean)["runs"][0]["results"], serde_json::json!([]));
}
