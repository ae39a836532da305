//! The buildspec's final-phase responder (engine/assets/respond.sh), run as CodeBuild runs
//! a post_build command (`bash -c` with the build's environment), with the AWS CLI replaced
//! by a test double on PATH and the response URL by the recorder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use cib_testkit::ResponseRecorder;
use serde_json::Value;

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const REPO_URI: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stack-api";

fn script() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../engine/assets/respond.sh");
    std::fs::read_to_string(&path).expect("respond.sh readable")
}

/// The AWS CLI double: logs its arguments, answers `ecr describe-images` with the digest in
/// the regions listed in $FAKE_IMAGE_REGIONS, `codebuild batch-get-builds` with
/// $FAKE_BUILDS_JSON, and `ssm delete-parameter` with success unless $FAKE_SSM_FAILS.
const AWS_DOUBLE: &str = r#"#!/usr/bin/env bash
printf '%s\n' "$*" >> "$FAKE_AWS_LOG"
region=""
args=("$@")
for i in "${!args[@]}"; do
  if [ "${args[$i]}" = "--region" ]; then region="${args[$((i + 1))]}"; fi
done
case "$1 $2" in
  "ecr describe-images")
    for r in $FAKE_IMAGE_REGIONS; do
      if [ "$r" = "$region" ]; then printf '%s\n' "$FAKE_DIGEST"; exit 0; fi
    done
    echo "An error occurred (ImageNotFoundException) when calling the DescribeImages operation" >&2
    exit 254 ;;
  "codebuild batch-get-builds")
    cat "$FAKE_BUILDS_JSON" ;;
  "ssm delete-parameter")
    if [ -n "${FAKE_SSM_FAILS:-}" ]; then
      echo "An error occurred (AccessDeniedException) when calling the DeleteParameter operation" >&2
      exit 254
    fi ;;
  *)
    echo "unexpected aws call: $*" >&2
    exit 2 ;;
esac
"#;

struct Run {
    output: Output,
    aws_calls: Vec<String>,
}

fn run(recorder: &ResponseRecorder, env: &[(&str, &str)], builds: &Value) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("bin dir");
    let aws = bin.join("aws");
    std::fs::write(&aws, AWS_DOUBLE).expect("write double");
    make_executable(&aws);
    let builds_json = dir.path().join("builds.json");
    std::fs::write(&builds_json, builds.to_string()).expect("builds json");
    let log = dir.path().join("aws.log");
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display());
    let url = recorder.url("/response?X-Amz-Signature=abc");
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(script()).env_clear();
    let base: Vec<(&str, String)> = vec![
        ("PATH", path),
        ("HOME", dir.path().display().to_string()),
        ("FAKE_AWS_LOG", log.display().to_string()),
        ("FAKE_BUILDS_JSON", builds_json.display().to_string()),
        ("FAKE_DIGEST", DIGEST.into()),
        ("AWS_REGION", "us-east-1".into()),
        ("CODEBUILD_BUILD_ID", "proj:1111".into()),
        (
            "CODEBUILD_BUILD_URL",
            "https://console.example/build/proj:1111".into(),
        ),
        ("CIB_RESPONSE_URL", url),
        (
            "CIB_RESPONSE_PARAMETER",
            "/ContainerImageBuild/responses/1/0011223344556677".into(),
        ),
        (
            "CIB_STACK_ID",
            "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1".into(),
        ),
        ("CIB_REQUEST_ID", "req-1".into()),
        ("CIB_LOGICAL_ID", "Api".into()),
        ("CIB_PHYSICAL_ID", "Api-0011223344556677".into()),
        ("CIB_REPOSITORY_URI", REPO_URI.into()),
        ("CIB_REPOSITORY_NAME", "stack-api".into()),
        (
            "CIB_REPOSITORY_ARN",
            "arn:aws:ecr:us-east-1:123456789012:repository/stack-api".into(),
        ),
        ("CIB_IMAGE_TAG", "abc123".into()),
        ("CIB_REPLICA_POLL_SECONDS", "1".into()),
        // The recorder listens on http://127.0.0.1; the URL check itself is tested below.
        ("CIB_ALLOW_HTTP_RESPONSE_URL", "true".into()),
    ];
    for (k, v) in &base {
        cmd.env(k, v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = cmd.output().expect("bash runs");
    let aws_calls = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    Run { output, aws_calls }
}

fn make_executable(path: &PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let mut perms = std::fs::metadata(path).expect("meta").permissions();
    perms.set_mode(0o755);
    std::fs::set_permissions(path, perms).expect("chmod");
}

fn stderr(run: &Run) -> String {
    String::from_utf8_lossy(&run.output.stderr).into_owned()
}

fn failed_build(message: &str) -> Value {
    serde_json::json!({"builds": [{"phases": [
        {"phaseType": "SUBMITTED", "phaseStatus": "SUCCEEDED"},
        {"phaseType": "PRE_BUILD", "phaseStatus": "SUCCEEDED"},
        {"phaseType": "BUILD", "phaseStatus": "FAILED",
         "contexts": [{"statusCode": "COMMAND_EXECUTION_ERROR", "message": message}]},
        {"phaseType": "POST_BUILD"}
    ]}]})
}

#[test]
fn a_successful_build_answers_success_with_digest_and_replica_uris() {
    let recorder = ResponseRecorder::start();
    let run = run(
        &recorder,
        &[
            ("CODEBUILD_BUILD_SUCCEEDING", "1"),
            ("CIB_REPLICA_REGIONS", "us-west-2 eu-west-1"),
            ("FAKE_IMAGE_REGIONS", "us-east-1 us-west-2 eu-west-1"),
        ],
        &Value::Null,
    );
    assert!(run.output.status.success(), "{}", stderr(&run));
    let puts = recorder.puts();
    assert_eq!(puts.len(), 1, "exactly one answer");
    assert_eq!(
        puts[0].header("content-type"),
        None,
        "presigned URLs are signed without one"
    );
    let v = puts[0].json();
    assert_eq!(v["Status"], "SUCCESS");
    assert_eq!(v["PhysicalResourceId"], "Api-0011223344556677");
    assert_eq!(v["RequestId"], "req-1");
    assert_eq!(v["LogicalResourceId"], "Api");
    let d = &v["Data"];
    assert_eq!(d["ImageUri"], format!("{REPO_URI}:abc123"));
    assert_eq!(d["ImageTag"], "abc123");
    assert_eq!(d["ImageDigest"], DIGEST);
    assert_eq!(d["ImageUriWithDigest"], format!("{REPO_URI}@{DIGEST}"));
    assert_eq!(d["RepositoryName"], "stack-api");
    assert_eq!(
        d["ImageUri.us-west-2"],
        "123456789012.dkr.ecr.us-west-2.amazonaws.com/stack-api:abc123"
    );
    assert_eq!(
        d["ImageUri.eu-west-1"],
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/stack-api:abc123"
    );
    assert!(
        run.aws_calls
            .iter()
            .any(|c| c.contains("--region eu-west-1")),
        "{:?}",
        run.aws_calls
    );
}

#[test]
fn a_failed_build_answers_failed_with_phase_and_log_link() {
    let recorder = ResponseRecorder::start();
    let run = run(
        &recorder,
        &[("CODEBUILD_BUILD_SUCCEEDING", "0")],
        &failed_build("Error while executing command: docker buildx build. Reason: exit status 1"),
    );
    assert!(run.output.status.success(), "{}", stderr(&run));
    let puts = recorder.puts();
    assert_eq!(puts.len(), 1);
    let v = puts[0].json();
    assert_eq!(v["Status"], "FAILED");
    let reason = v["Reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("in phase BUILD (FAILED: Error while executing command"),
        "{reason}"
    );
    assert!(
        reason.contains("https://console.example/build/proj:1111"),
        "{reason}"
    );
    assert!(v.get("Data").is_none());
}

#[test]
fn a_replica_that_never_gets_the_image_fails_after_the_wait() {
    let recorder = ResponseRecorder::start();
    let run = run(
        &recorder,
        &[
            ("CODEBUILD_BUILD_SUCCEEDING", "1"),
            ("CIB_REPLICA_REGIONS", "us-west-2"),
            ("CIB_REPLICA_WAIT_SECONDS", "2"),
            ("FAKE_IMAGE_REGIONS", "us-east-1"),
        ],
        &Value::Null,
    );
    assert!(run.output.status.success(), "{}", stderr(&run));
    let v = recorder.puts()[0].json();
    assert_eq!(v["Status"], "FAILED");
    let reason = v["Reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("did not reach replica region us-west-2"),
        "{reason}"
    );
}

#[test]
fn a_huge_failure_message_is_truncated_and_stays_json() {
    let recorder = ResponseRecorder::start();
    let message = "\"quoted\" and é ".repeat(1000);
    let run = run(
        &recorder,
        &[("CODEBUILD_BUILD_SUCCEEDING", "0")],
        &failed_build(&message),
    );
    assert!(run.output.status.success(), "{}", stderr(&run));
    let put = &recorder.puts()[0];
    assert!(put.body.len() <= 4096, "{} bytes", put.body.len());
    assert!(
        put.body.len() > 4096 - 200,
        "uses the room: {}",
        put.body.len()
    );
    let v = put.json();
    assert_eq!(v["Status"], "FAILED");
    let reason = v["Reason"].as_str().unwrap_or_default();
    // The middle is cut: what failed and the log link both survive.
    assert!(reason.contains(" [truncated] "), "{reason}");
    assert!(
        reason.starts_with("The image build failed in phase BUILD"),
        "{reason}"
    );
    assert!(
        reason.ends_with("Log: https://console.example/build/proj:1111"),
        "{reason}"
    );
}

#[test]
fn the_response_parameter_is_deleted_after_delivery_and_a_failed_delete_is_not_fatal() {
    let recorder = ResponseRecorder::start();
    let delivered = run(
        &recorder,
        &[("CODEBUILD_BUILD_SUCCEEDING", "0")],
        &failed_build("boom"),
    );
    assert!(delivered.output.status.success(), "{}", stderr(&delivered));
    assert!(
        delivered.aws_calls.iter().any(|c| c
            == "ssm delete-parameter --name /ContainerImageBuild/responses/1/0011223344556677"),
        "{:?}",
        delivered.aws_calls
    );
    let denied = run(
        &recorder,
        &[("CODEBUILD_BUILD_SUCCEEDING", "0"), ("FAKE_SSM_FAILS", "1")],
        &failed_build("boom"),
    );
    assert!(denied.output.status.success(), "{}", stderr(&denied));
    assert!(stderr(&denied).contains("could not delete the response parameter"));
    assert_eq!(recorder.puts().len(), 2, "both answered");

    // Not delivered: the parameter stays for the provider's answer.
    let undelivered = ResponseRecorder::start();
    undelivered.set_status(403);
    let kept = run(
        &undelivered,
        &[("CODEBUILD_BUILD_SUCCEEDING", "0")],
        &failed_build("boom"),
    );
    assert!(!kept.output.status.success());
    assert!(
        !kept.aws_calls.iter().any(|c| c.starts_with("ssm ")),
        "{:?}",
        kept.aws_calls
    );
}

#[test]
fn an_undeliverable_answer_fails_the_phase_so_the_provider_answers() {
    let recorder = ResponseRecorder::start();
    recorder.set_status(403);
    let run = run(
        &recorder,
        &[("CODEBUILD_BUILD_SUCCEEDING", "0")],
        &failed_build("boom"),
    );
    assert!(!run.output.status.success(), "must exit non-zero");
    assert!(!recorder.wait_for(1, Duration::from_secs(1)).is_empty());
}

#[test]
fn a_build_not_started_by_the_provider_answers_nothing() {
    let recorder = ResponseRecorder::start();
    let run = run(
        &recorder,
        &[
            ("CODEBUILD_BUILD_SUCCEEDING", "1"),
            ("CIB_RESPONSE_URL", ""),
        ],
        &Value::Null,
    );
    assert!(run.output.status.success(), "{}", stderr(&run));
    assert!(recorder.puts().is_empty());
}

/// A curl double that logs the URL it was given (its last argument) and succeeds.
const CURL_DOUBLE: &str = r#"#!/usr/bin/env bash
printf '%s\n' "${@: -1}" >> "$FAKE_CURL_LOG"
printf 'args: %s\n' "$*" >> "$FAKE_CURL_LOG"
"#;

/// Whether respond.sh, in `region`, PUTs to `url` (run with a curl double on PATH and no
/// test switch), and the script's exit status.
fn script_puts_to(url: &str, region: &str) -> (bool, bool) {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("bin dir");
    for (name, text) in [("aws", AWS_DOUBLE), ("curl", CURL_DOUBLE)] {
        let path = bin.join(name);
        std::fs::write(&path, text).expect("write double");
        make_executable(&path);
    }
    let curl_log = dir.path().join("curl.log");
    let output = Command::new("bash")
        .arg("-c")
        .arg(script())
        .env_clear()
        .env(
            "PATH",
            format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()),
        )
        .env("HOME", dir.path())
        .env("FAKE_AWS_LOG", dir.path().join("aws.log"))
        .env("FAKE_CURL_LOG", &curl_log)
        .env("AWS_REGION", region)
        .env("CODEBUILD_BUILD_SUCCEEDING", "0")
        .env("FAKE_BUILDS_JSON", dir.path().join("none.json"))
        .env("CIB_RESPONSE_URL", url)
        .env(
            "CIB_STACK_ID",
            "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
        )
        .env("CIB_REQUEST_ID", "req-1")
        .env("CIB_LOGICAL_ID", "Api")
        .env("CIB_PHYSICAL_ID", "Api-0011223344556677")
        .env("CIB_REPOSITORY_URI", REPO_URI)
        .env("CIB_IMAGE_TAG", "abc123")
        .output()
        .expect("bash runs");
    let logged = std::fs::read_to_string(&curl_log).unwrap_or_default();
    let put = logged.lines().any(|l| l == url);
    if put {
        // Bounded: a response endpoint that never answers cannot hold the phase.
        assert!(
            logged.contains("--connect-timeout 10") && logged.contains("--max-time 30"),
            "{logged}"
        );
    }
    (put, output.status.success())
}

#[test]
fn respond_sh_puts_only_where_the_provider_would() {
    // Every partition's forms, and the lookalikes the provider refuses (the provider's own
    // table of examples); the script must agree with the provider's check on each.
    let cases = cib_provider::gate::response_url::EXAMPLES;
    let mut trusted = 0;
    for &(region, url, _) in cases {
        let provider =
            cib_provider::gate::response_url::is_cloudformation_response_url(url, region);
        let (put, exit_ok) = script_puts_to(url, region);
        assert_eq!(
            put, provider,
            "respond.sh and the provider disagree on {url} in {region:?}"
        );
        assert_eq!(
            exit_ok, provider,
            "an answer not sent fails the phase: {url}"
        );
        trusted += usize::from(provider);
    }
    assert_eq!(trusted, 13, "the table holds both kinds");
}

#[test]
fn respond_sh_passes_shellcheck() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../engine/assets/respond.sh");
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
