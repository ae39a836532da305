//! The pack, rule by rule: every rule has a passing and a failing fixture in
//! `tests/fixtures/<rule>/`, evaluated with `cib_policy::check`, the function `cib check`
//! and the macro run on an expanded template.

use std::path::{Path, PathBuf};

use cib_engine::Finding;
use cib_policy::{PACK, PACK_FINDING_ID};
use serde_json::Value;

/// Each rule of the pack and the path its failing fixture must be reported at.
const FAILING_PATHS: &[(&str, &str)] = &[
    (
        "cib_ecr_scan_on_push",
        "Resources.ApiImageRepository.Properties.ImageScanningConfiguration.ScanOnPush",
    ),
    (
        "cib_ecr_encryption",
        "Resources.ApiImageRepository.Properties.EncryptionConfiguration.EncryptionType",
    ),
    (
        "cib_ecr_lifecycle_keeps_tagged_images",
        "Resources.ApiImageRepository.Properties.LifecyclePolicy.LifecyclePolicyText.rules[1].selection.countType",
    ),
    (
        "cib_ecr_immutable_content_tags",
        "Resources.ApiImageRepository.Properties.ImageTagMutability",
    ),
    (
        "cib_codebuild_privileged_for_image_builds",
        "Resources.ContainerImageBuildProjectAmd64.Properties.Environment.PrivilegedMode",
    ),
    (
        "cib_codebuild_timeout",
        "Resources.ContainerImageBuildProjectAmd64.Properties.TimeoutInMinutes",
    ),
    (
        "cib_codebuild_logs",
        "Resources.ContainerImageBuildProjectAmd64.Properties.LogsConfig.CloudWatchLogs.Status",
    ),
    (
        "cib_iam_no_wildcard_resource",
        "Resources.ContainerImageBuildRole.Properties.Policies[0].PolicyDocument.Statement[3].Action",
    ),
    (
        "cib_iam_no_admin_actions",
        "Resources.ContainerImageBuildRole.Properties.Policies[0].PolicyDocument.Statement[3].Action[1]",
    ),
    (
        "cib_trigger_service_token",
        "Resources.ApiImage.Properties.ServiceToken",
    ),
    (
        "cib_trigger_service_timeout",
        "Resources.ApiImage.Properties.ServiceTimeout",
    ),
    ("cib_template_under_500_resources", "Resources"),
];

fn fixture(rule: &str, name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rule)
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    cib_engine::template::parse(&bytes)
        .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()))
        .0
}

/// Every `rule <name>` of the pack.
fn pack_rules() -> Vec<String> {
    PACK.iter()
        .flat_map(|(_, text)| text.lines())
        .filter_map(|line| line.trim_start().strip_prefix("rule "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

fn describe(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("{f}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_rule_of_the_pack_has_fixtures() {
    let mut rules = pack_rules();
    rules.sort();
    let mut listed: Vec<String> = FAILING_PATHS.iter().map(|(r, _)| (*r).to_owned()).collect();
    listed.sort();
    assert_eq!(rules, listed);
}

#[test]
fn passing_fixtures_pass_every_rule() {
    for (rule, _) in FAILING_PATHS {
        let findings = cib_policy::check(&fixture(rule, "pass.json"), &[]);
        assert!(
            findings.is_empty(),
            "{rule}/pass.json:\n{}",
            describe(&findings)
        );
    }
}

#[test]
fn failing_fixtures_fail_their_rule_only_at_the_offending_path() {
    for (rule, path) in FAILING_PATHS {
        let findings = cib_policy::check(&fixture(rule, "fail.json"), &[]);
        assert!(!findings.is_empty(), "{rule}/fail.json passed");
        for finding in &findings {
            assert_eq!(
                finding.rule.as_deref(),
                Some(*rule),
                "{}",
                describe(&findings)
            );
            assert_eq!(finding.id, PACK_FINDING_ID);
            assert!(finding.is_error());
            assert!(
                !finding.message.is_empty() && !finding.fix.is_empty(),
                "{finding}"
            );
        }
        assert!(
            findings.iter().any(|f| f.path == *path),
            "{rule}: expected a finding at {path}, got:\n{}",
            describe(&findings)
        );
        if let Some(resource) = path
            .strip_prefix("Resources.")
            .and_then(|p| p.split('.').next())
        {
            assert!(
                findings
                    .iter()
                    .any(|f| f.resource.as_deref() == Some(resource))
            );
        }
    }
}

fn samples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("samples/")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "json")
            )
        })
        .collect();
    paths.sort();
    paths
}

#[test]
fn every_sample_expansion_passes_the_pack() {
    let samples = samples();
    assert!(samples.len() >= 8, "{samples:?}");
    for path in samples {
        let bytes = std::fs::read(&path).expect("sample");
        let (template, _) = cib_engine::template::parse(&bytes).expect("sample parses");
        let options = cib_engine::ExpandOptions {
            region: Some("us-east-1".into()),
            ..Default::default()
        };
        let outcome = cib_engine::expand(&template, &options);
        let expanded = outcome
            .template
            .unwrap_or_else(|| panic!("{}: {:?}", path.display(), outcome.findings));
        let findings = cib_policy::check(&expanded, &[]);
        assert!(
            findings.is_empty(),
            "{}:\n{}",
            path.display(),
            describe(&findings)
        );
    }
}

#[test]
fn readme_lists_every_rule_of_the_pack() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    for rule in pack_rules() {
        assert!(
            readme.contains(&format!("`{rule}`")),
            "README.md's policy pack table lacks {rule}"
        );
    }
}
