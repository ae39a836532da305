//! Every identity policy we write passes `parliament` (PyPI, in the project's venv), a
//! linter built on AWS's IAM reference (the Service Authorization Reference): each action
//! exists, each resource ARN matches a resource type that action supports, each condition
//! key is one the action supports. The policies are the support stack's roles, the build
//! role the expansion writes for every sample, resolved as IAM holds them once deployed,
//! and the deployer policy the README gives for `cib` (`deploy/deployer-policy.json`).

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Findings parliament reports that are not defects: the issue, the policy file (a prefix of
/// its name), text its detail holds, and the reason. Everything else fails the test.
const ACCEPTED: &[(&str, &str, &str, &str)] = &[
    (
        "RESOURCE_MISMATCH",
        "build-",
        "ecr:BatchImportUpstreamImage",
        "parliament's database predates AWS's: the Service Authorization Reference lists \
         `repository*` as its resource type (https://docs.aws.amazon.com/service-authorization/\
         latest/reference/list_amazonelasticcontainerregistry.html), as for the other \
         pull-through cache actions",
    ),
    (
        "INVALID_ARN",
        "deployer.json",
        "Account expected",
        "a template with an AWS transform (AWS::Serverless-2016-10-31, AWS::LanguageExtensions) \
         needs cloudformation:CreateChangeSet on the transform, whose ARN has the account `aws`: \
         arn:aws:cloudformation:<region>:aws:transform/<name> (CloudFormation user guide, \
         \"Control access with IAM\", condition and resource examples for transforms)",
    ),
];

/// Values of the samples' parameters without a default, and of the attributes their
/// policies use, that must look like what they stand for.
const PARAMETER_VALUES: &[(&str, &str)] = &[
    (
        "PrivateRegistrySecretArn",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:registry-AbCdEf",
    ),
    ("BuildSecurityGroup.GroupId", "sg-0123456789abcdef0"),
];

/// Every policy to lint: a file name and the document.
fn policies() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for role in ["TransformRole", "ProviderRole", "FailureResponderRole"] {
        for (i, policy) in common::support_role_policies(role).into_iter().enumerate() {
            out.push((format!("support-{role}-{i}.json"), policy));
        }
    }
    let deployer = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/deployer-policy.json"),
    )
    .expect("deploy/deployer-policy.json");
    out.push((
        "deployer.json".into(),
        serde_json::from_str(&deployer).expect("the deployer policy is JSON"),
    ));
    // Features no sample shows: base images from another account and region.
    let extra = "Resources:\n  Api:\n    Type: Custom::ContainerImageBuild\n    Properties:\n      \
                 Source: {S3Bucket: contexts, S3Key: api.zip}\n      PullFromRepositories:\n        \
                 - arn:aws:ecr:eu-west-1:111122223333:repository/base/*\n";
    let policies = common::build_role_policies_with(extra, common::STACK_ID, PARAMETER_VALUES)
        .unwrap_or_default();
    for (i, policy) in policies.into_iter().enumerate() {
        out.push((format!("build-pull-from-{i}.json"), policy));
    }
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples");
    let mut entries: Vec<_> = std::fs::read_dir(&samples)
        .expect("samples dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .collect();
    entries.sort();
    for path in entries {
        let text = std::fs::read_to_string(&path).expect("read sample");
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("sample");
        let Some(policies) =
            common::build_role_policies_with(&text, common::STACK_ID, PARAMETER_VALUES)
        else {
            continue;
        };
        for (i, policy) in policies.into_iter().enumerate() {
            out.push((format!("build-{name}-{i}.json"), policy));
        }
    }
    out
}

/// The policy file a finding is about.
fn file_name(finding: &Value) -> &str {
    finding["location"]["filepath"]
        .as_str()
        .and_then(|p| Path::new(p).file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("?")
}

#[test]
fn every_policy_we_write_passes_parliament() {
    let policies = policies();
    assert!(
        policies.len() >= 10,
        "the support stack's roles and the samples' build roles: {}",
        policies.len()
    );
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, policy) in &policies {
        let text = serde_json::to_string_pretty(policy).expect("policy JSON");
        std::fs::write(dir.path().join(name), text).expect("write policy");
    }
    let output = Command::new(cib_testkit::venv_program("parliament"))
        .arg("--directory")
        .arg(dir.path())
        .args(["--include_policy_extension", "json", "--json"])
        .args(["--minimum_severity", "LOW"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run parliament (scripts/test.sh installs it): {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let findings: Vec<Value> = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("parliament said {l}: {e}")))
        .collect();
    let defects: Vec<String> = findings
        .iter()
        .filter(|f| {
            let issue = f["issue"].as_str().unwrap_or_default();
            let detail = f["detail"].to_string();
            let file = file_name(f);
            !ACCEPTED.iter().any(|(accepted, in_file, about, _)| {
                *accepted == issue && file.starts_with(in_file) && detail.contains(about)
            })
        })
        .map(|f| {
            format!(
                "{} {}: {} {}",
                file_name(f),
                f["issue"].as_str().unwrap_or_default(),
                f["title"].as_str().unwrap_or_default(),
                f["detail"]
            )
        })
        .collect();
    assert!(
        output.status.success() || !findings.is_empty(),
        "parliament failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        defects.is_empty(),
        "parliament findings:\n{}",
        defects.join("\n")
    );
}
