//! The vulnerability gate (engine/assets/scan.sh, run by respond.sh) against moto's ECR,
//! with the real AWS CLI: respond.sh runs as CodeBuild runs a post_build command (`bash -c`
//! with the build's environment), the gate's script packed in `CIB_SCAN_SCRIPT_GZ` exactly
//! as the expansion packs it, the response URL replaced by the recorder. moto's
//! DescribeImageScanFindings answers with the findings a test registers through moto's
//! own API; the strict layer holds the gate's calls to ECR's documented limits.
//!
//! Needs the AWS CLI (`aws`), `jq`, `curl` and `shellcheck`; a missing tool fails the test.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use cib_engine::expand::buildspec::{RESPOND_SCRIPT, SCAN_SCRIPT, packed_scan_script};
use cib_testkit::{MotoServer, ResponseRecorder};
use serde_json::{Value, json};

const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";
const REPO: &str = "stack-web";
const TAG: &str = "web-0123abcd";
/// The stack the build belongs to.
const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1";
/// The image whose build runs the gate: its build role is what the gate's requests are
/// authorized against.
const GATED_IMAGE: &str = "
Resources:
  WebImage:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {S3Bucket: contexts, S3Key: web.zip}
      Repository: {RepositoryName: stack-web}
      Scan: {FailOnSeverity: HIGH}
      ReplicaRegions: [us-west-2, eu-west-1]
      TimeoutInMinutes: 30
";

/// A small OCI manifest; moto stores it without asking for its blobs.
fn manifest(seed: &str) -> String {
    let digest = format!("sha256:{:0>64}", seed);
    json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest, "size": 2},
        "layers": []
    })
    .to_string()
}

/// Runs the AWS CLI against moto (through the strict layer); panics with its output on
/// failure, since every call here is test setup.
fn aws(moto: &MotoServer, args: &[&str]) -> String {
    let out = aws_command(moto)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("the AWS CLI (`aws`) is required: {e}"));
    assert!(
        out.status.success(),
        "aws {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A command with only the environment a build has: moto's endpoint and test
/// credentials, no configuration files.
fn aws_command(moto: &MotoServer) -> Command {
    let mut cmd = Command::new("aws");
    isolate(&mut cmd, moto);
    cmd
}

fn isolate(cmd: &mut Command, moto: &MotoServer) {
    cmd.env_clear();
    for key in ["PATH", "HOME", "PYENV_ROOT", "PYENV_VERSION"] {
        if let Some(value) = std::env::var_os(key) {
            cmd.env(key, value);
        }
    }
    cmd.env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    for (k, v) in moto.sdk_env(REGION) {
        cmd.env(k, v);
    }
}

/// A repository holding one image under [`TAG`]; returns its digest.
fn pushed_image(moto: &MotoServer) -> String {
    aws(
        moto,
        &["ecr", "create-repository", "--repository-name", REPO],
    );
    aws(
        moto,
        &[
            "ecr",
            "put-image",
            "--repository-name",
            REPO,
            "--image-tag",
            TAG,
            "--image-manifest",
            &manifest("a1"),
            "--query",
            "image.imageId.imageDigest",
            "--output",
            "text",
        ],
    )
}

/// What ECR's scan on push does (moto does not scan by itself).
fn scan_on_push(moto: &MotoServer) {
    aws(
        moto,
        &[
            "ecr",
            "start-image-scan",
            "--repository-name",
            REPO,
            "--image-id",
            &format!("imageTag={TAG}"),
        ],
    );
}

/// Registers the answer moto gives to DescribeImageScanFindings for the image `digest`.
fn scan_result(moto: &MotoServer, digest: &str, status: &str, findings: Value) {
    let body = json!({
        "region": REGION,
        "results": [{
            "registryId": ACCOUNT,
            "repositoryName": REPO,
            "imageId": {"imageDigest": digest},
            "imageScanStatus": {"status": status, "description": format!("scan {status}")},
            "imageScanFindings": findings
        }]
    });
    // moto's own API (not an AWS one), so it bypasses the strict layer.
    let mut child = Command::new("curl")
        .args(["-sS", "--fail", "-X", "POST", "--data-binary", "@-"])
        .arg(format!(
            "{}/moto-api/static/ecr/scan-finding-results",
            moto.unchecked_endpoint()
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("curl is required: {e}"));
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(body.to_string().as_bytes())
            .expect("write the findings to curl");
    }
    let out = child.wait_with_output().expect("curl ends");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn finding(name: &str, severity: &str) -> Value {
    json!({"name": name, "severity": severity, "uri": format!("https://cve.example/{name}")})
}

struct Run {
    output: Output,
    answer: Value,
    body_len: usize,
}

/// Runs respond.sh as the final phase of a build that pushed [`TAG`], with `extra`
/// environment on top of what the provider sets.
fn respond(moto: &MotoServer, extra: &[(&str, &str)]) -> Run {
    let recorder = ResponseRecorder::start();
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(RESPOND_SCRIPT);
    isolate(&mut cmd, moto);
    // The build's own credentials: its role as the expansion writes it.
    moto.enforce(
        common::BUILD_ACCESS_KEY,
        "ContainerImageBuildRole",
        common::build_role_policies(GATED_IMAGE, STACK_ID),
    );
    cmd.env("AWS_ACCESS_KEY_ID", common::BUILD_ACCESS_KEY);
    let uri = format!("{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPO}");
    for (k, v) in [
        ("CODEBUILD_BUILD_SUCCEEDING", "1"),
        ("CODEBUILD_BUILD_ID", "proj:1111"),
        (
            "CODEBUILD_BUILD_URL",
            "https://console.example/build/proj:1111",
        ),
        (
            "CIB_RESPONSE_URL",
            &recorder.url("/response?X-Amz-Signature=abc"),
        ),
        ("CIB_STACK_ID", STACK_ID),
        ("CIB_REQUEST_ID", "req-1"),
        ("CIB_LOGICAL_ID", "WebImage"),
        ("CIB_PHYSICAL_ID", "WebImage-0011223344556677"),
        ("CIB_REPOSITORY_URI", &uri),
        ("CIB_REPOSITORY_NAME", REPO),
        (
            "CIB_REPOSITORY_ARN",
            "arn:aws:ecr:us-east-1:123456789012:repository/stack-web",
        ),
        ("CIB_IMAGE_TAG", TAG),
        ("CIB_SCAN_SCRIPT_GZ", packed_scan_script()),
        ("CIB_SCAN_WAIT_SECONDS", "2"),
        ("CIB_SCAN_POLL_SECONDS", "1"),
        // The recorder listens on http://127.0.0.1 (respond_sh.rs tests the URL check).
        ("CIB_ALLOW_HTTP_RESPONSE_URL", "true"),
    ] {
        cmd.env(k, v);
    }
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let output = cmd.output().expect("bash runs");
    let puts = recorder.puts();
    assert_eq!(
        puts.len(),
        1,
        "exactly one answer; stderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        recorder.refused().is_empty(),
        "the recorder refused an answer (over 4096 bytes?)"
    );
    Run {
        answer: puts[0].json(),
        body_len: puts[0].body.len(),
        output,
    }
}

fn reason(run: &Run) -> String {
    run.answer["Reason"].as_str().unwrap_or_default().to_owned()
}

fn tag_exists(moto: &MotoServer) -> bool {
    aws_command(moto)
        .args([
            "ecr",
            "describe-images",
            "--repository-name",
            REPO,
            "--image-ids",
            &format!("imageTag={TAG}"),
        ])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn no_refusals(moto: &MotoServer) {
    let refusals = moto.refusals();
    assert!(
        refusals.is_empty(),
        "the strict layer refused: {refusals:?}"
    );
}

#[test]
fn findings_at_or_above_the_severity_fail_with_counts_and_names_and_untag_the_image() {
    let moto = MotoServer::start();
    let digest = pushed_image(&moto);
    scan_on_push(&moto);
    scan_result(
        &moto,
        &digest,
        "COMPLETE",
        json!({"findings": [
            finding("CVE-2024-0001", "CRITICAL"),
            finding("CVE-2024-0002", "HIGH"),
            finding("CVE-2024-0003", "HIGH"),
            finding("CVE-2024-0004", "MEDIUM"),
            finding("CVE-2024-0005", "LOW")
        ], "findingSeverityCounts": {"CRITICAL": 1, "HIGH": 2, "MEDIUM": 1, "LOW": 1}}),
    );
    let run = respond(
        &moto,
        &[
            ("CIB_SCAN_FAIL_ON_SEVERITY", "HIGH"),
            ("CIB_SCAN_IGNORE_FINDINGS", "CVE-2024-0003 CVE-1999-9999"),
        ],
    );
    assert!(run.output.status.success(), "the answer was delivered");
    assert_eq!(run.answer["Status"], "FAILED");
    assert!(
        run.answer.get("Data").is_none(),
        "a failed image gives the stack nothing to point to"
    );
    let reason = reason(&run);
    assert!(
        reason.starts_with(&format!(
            "Image {ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPO}:{TAG} failed the vulnerability gate (FailOnSeverity HIGH): 2 finding(s), CRITICAL 1, HIGH 1 (1 more ignored by IgnoreFindings): CVE-2024-0001, CVE-2024-0002"
        )),
        "{reason}"
    );
    assert!(
        !reason.contains("CVE-2024-0004"),
        "below the severity: {reason}"
    );
    assert!(reason.contains("its tag was removed"), "{reason}");
    assert!(
        reason.ends_with("Log: https://console.example/build/proj:1111"),
        "{reason}"
    );
    assert!(
        !tag_exists(&moto),
        "the next deploy must not take the image as built"
    );
    no_refusals(&moto);
}

/// `manifest` put under [`TAG`] in `region`, as replication would have.
fn replicated(moto: &MotoServer, region: &str, manifest: &str) {
    aws(
        moto,
        &[
            "ecr",
            "create-repository",
            "--region",
            region,
            "--repository-name",
            REPO,
        ],
    );
    aws(
        moto,
        &[
            "ecr",
            "put-image",
            "--region",
            region,
            "--repository-name",
            REPO,
            "--image-tag",
            TAG,
            "--image-manifest",
            manifest,
        ],
    );
}

/// Another image than [`manifest`]'s: moto derives the digest from the layers.
fn other_manifest() -> String {
    let mut m: Value = serde_json::from_str(&manifest("b2")).unwrap_or_default();
    m["layers"] = json!([{
        "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
        "digest": format!("sha256:{:0>64}", "c3"),
        "size": 3
    }]);
    m.to_string()
}

fn tag_exists_in(moto: &MotoServer, region: &str) -> bool {
    aws_command(moto)
        .args([
            "ecr",
            "describe-images",
            "--region",
            region,
            "--repository-name",
            REPO,
            "--image-ids",
            &format!("imageTag={TAG}"),
        ])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
fn a_failed_image_loses_its_tag_in_the_replica_regions_that_hold_it_too() {
    let moto = MotoServer::start();
    let digest = pushed_image(&moto);
    replicated(&moto, "us-west-2", &manifest("a1"));
    replicated(&moto, "eu-west-1", &other_manifest());
    scan_on_push(&moto);
    scan_result(
        &moto,
        &digest,
        "COMPLETE",
        json!({"findings": [finding("CVE-2024-0001", "CRITICAL")]}),
    );
    let run = respond(
        &moto,
        &[
            ("CIB_SCAN_FAIL_ON_SEVERITY", "HIGH"),
            ("CIB_REPLICA_REGIONS", "us-west-2 eu-west-1"),
            ("CIB_REPLICA_WAIT_SECONDS", "2"),
            ("CIB_REPLICA_POLL_SECONDS", "1"),
        ],
    );
    assert_eq!(run.answer["Status"], "FAILED");
    let reason = reason(&run);
    assert!(reason.contains("its tag was removed"), "{reason}");
    assert!(!tag_exists(&moto), "home tag removed");
    assert!(
        !tag_exists_in(&moto, "us-west-2"),
        "the replica of the failed image must lose its tag, or a rebuild is refused there"
    );
    assert!(
        tag_exists_in(&moto, "eu-west-1"),
        "a replica tag naming another image is left alone; stderr:\n{}",
        String::from_utf8_lossy(&run.output.stderr)
    );
    no_refusals(&moto);
}

#[test]
fn findings_below_the_severity_or_ignored_pass_and_answer_the_image() {
    let moto = MotoServer::start();
    let digest = pushed_image(&moto);
    scan_on_push(&moto);
    scan_result(
        &moto,
        &digest,
        "COMPLETE",
        json!({"findings": [
            finding("CVE-2024-0001", "CRITICAL"),
            finding("CVE-2024-0004", "HIGH"),
            finding("CVE-2024-0005", "UNDEFINED")
        ]}),
    );
    let run = respond(
        &moto,
        &[
            ("CIB_SCAN_FAIL_ON_SEVERITY", "HIGH"),
            ("CIB_SCAN_IGNORE_FINDINGS", "CVE-2024-0001 CVE-2024-0004"),
        ],
    );
    assert_eq!(run.answer["Status"], "SUCCESS", "{}", reason(&run));
    assert_eq!(run.answer["Data"]["ImageDigest"], digest.as_str());
    assert!(tag_exists(&moto));
    no_refusals(&moto);
}

#[test]
fn enhanced_findings_are_named_by_their_vulnerability_id() {
    let moto = MotoServer::start();
    let digest = pushed_image(&moto);
    scan_on_push(&moto);
    scan_result(
        &moto,
        &digest,
        "ACTIVE",
        json!({"enhancedFindings": [
            {"severity": "MEDIUM", "title": "CVE-2023-7777 - openssl", "type": "PACKAGE_VULNERABILITY",
             "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-2023-7777"}},
            {"severity": "LOW", "title": "CVE-2023-8888 - zlib",
             "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-2023-8888"}},
            {"severity": "UNTRIAGED", "title": "untriaged"}
        ]}),
    );
    let run = respond(&moto, &[("CIB_SCAN_FAIL_ON_SEVERITY", "MEDIUM")]);
    assert_eq!(run.answer["Status"], "FAILED");
    let reason = reason(&run);
    assert!(
        reason.contains("1 finding(s), MEDIUM 1: CVE-2023-7777;"),
        "{reason}"
    );
    no_refusals(&moto);
}

#[test]
fn a_scan_that_never_completes_fails_closed_after_the_wait() {
    let moto = MotoServer::start();
    pushed_image(&moto);
    // No scan: DescribeImageScanFindings answers ScanNotFoundException until the deadline.
    let run = respond(&moto, &[("CIB_SCAN_FAIL_ON_SEVERITY", "CRITICAL")]);
    assert_eq!(run.answer["Status"], "FAILED");
    let reason = reason(&run);
    assert!(reason.contains("did not complete within 2s"), "{reason}");
    assert!(!tag_exists(&moto));
    no_refusals(&moto);
}

#[test]
fn a_failed_or_unsupported_scan_fails_closed() {
    let moto = MotoServer::start();
    let digest = pushed_image(&moto);
    scan_on_push(&moto);
    scan_result(&moto, &digest, "UNSUPPORTED_IMAGE", json!({}));
    let run = respond(&moto, &[("CIB_SCAN_FAIL_ON_SEVERITY", "LOW")]);
    assert_eq!(run.answer["Status"], "FAILED");
    let reason = reason(&run);
    assert!(
        reason.contains(
            "ended UNSUPPORTED_IMAGE: scan UNSUPPORTED_IMAGE; the vulnerability gate fails closed"
        ),
        "{reason}"
    );
    no_refusals(&moto);
}

#[test]
fn thousands_of_findings_fit_in_the_answer_with_the_first_names() {
    let moto = MotoServer::start();
    let digest = pushed_image(&moto);
    scan_on_push(&moto);
    let findings: Vec<Value> = (0..3000)
        .map(|i| {
            finding(
                &format!("CVE-2024-{i:05}-with-a-long-suffix-xx"),
                if i % 2 == 0 { "CRITICAL" } else { "HIGH" },
            )
        })
        .collect();
    scan_result(&moto, &digest, "COMPLETE", json!({ "findings": findings }));
    let run = respond(&moto, &[("CIB_SCAN_FAIL_ON_SEVERITY", "HIGH")]);
    assert_eq!(run.answer["Status"], "FAILED");
    assert!(run.body_len <= 4096, "{} bytes", run.body_len);
    let reason = reason(&run);
    assert!(
        reason.contains(
            "3000 finding(s), CRITICAL 1500, HIGH 1500: CVE-2024-00000-with-a-long-suffix-xx,"
        ),
        "{reason}"
    );
    assert!(reason.contains(" and 2995 more"), "{reason}");
    no_refusals(&moto);
}

#[test]
fn without_scan_nothing_waits_or_reads_findings() {
    let moto = MotoServer::start();
    let digest = pushed_image(&moto);
    scan_on_push(&moto);
    scan_result(
        &moto,
        &digest,
        "COMPLETE",
        json!({"findings": [finding("CVE-2024-0001", "CRITICAL")]}),
    );
    let run = respond(&moto, &[]);
    assert_eq!(run.answer["Status"], "SUCCESS", "{}", reason(&run));
    let log = String::from_utf8_lossy(&run.output.stderr);
    assert!(!log.contains("cib-scan"), "{log}");
    assert!(tag_exists(&moto));
}

#[test]
fn a_missing_gate_script_fails_the_image_instead_of_passing_it() {
    let moto = MotoServer::start();
    pushed_image(&moto);
    let run = respond(
        &moto,
        &[
            ("CIB_SCAN_FAIL_ON_SEVERITY", "HIGH"),
            ("CIB_SCAN_SCRIPT_GZ", ""),
        ],
    );
    assert_eq!(run.answer["Status"], "FAILED");
    assert!(reason(&run).contains("did not run"), "{}", reason(&run));
}

#[test]
fn scan_sh_passes_shellcheck() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("scan.sh");
    std::fs::write(&path, SCAN_SCRIPT).expect("write scan.sh");
    let output = Command::new("shellcheck")
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("shellcheck is required (apt-get install -y shellcheck): {e}"));
    assert!(
        output.status.success(),
        "shellcheck findings:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
}
