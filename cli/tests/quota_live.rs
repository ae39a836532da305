//! `cib check --live` warns when a template has more images on one CodeBuild compute type
//! than the account's concurrent-build quota starts at once (against moto's server for the
//! registry read that `--live` also does).

mod common;

use std::process::{Command, Output};

use cib_testkit::MotoServer;

fn cib(moto: &MotoServer) -> Command {
    let mut command = common::cib();
    command
        .envs(moto.sdk_env("us-east-1"))
        .env("AWS_CONFIG_FILE", "/nonexistent/cib-test-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/cib-test-credentials",
        )
        .env_remove("AWS_PROFILE");
    command
}

fn run(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run cib: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn live_check_compares_images_per_compute_type_with_the_quota() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let template = dir.path().join("arm.yaml");
    let image = |name: &str| {
        format!(
            "  {name}:\n    Type: Custom::ContainerImageBuild\n    Properties:\n      Source: {{S3Bucket: b, S3Key: k.zip}}\n      Platform: linux/arm64\n"
        )
    };
    let body = format!("Resources:\n{}{}{}", image("A"), image("B"), image("C"));
    std::fs::write(&template, body).unwrap_or_else(|e| panic!("{e}"));

    // No quota given: ARM/Large is compared with its documented default of 1 (a warning).
    let default = run(cib(&moto).arg("check").arg(&template).arg("--live"));
    let stdout = text(&default.stdout);
    assert_eq!(default.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("CIB055"), "{stdout}");
    assert!(stdout.contains("3 images build on ARM/Large"), "{stdout}");

    // The account's quota, given: 3 fit.
    let given =
        run(cib(&moto)
            .arg("check")
            .arg(&template)
            .args(["--live", "--codebuild-quota", "3"]));
    assert!(
        !text(&given.stdout).contains("CIB055"),
        "{}",
        text(&given.stdout)
    );

    // Offline checks say nothing about the account.
    let offline = run(cib(&moto).arg("check").arg(&template));
    assert!(!text(&offline.stdout).contains("CIB055"));
}
