//! `cib check --live` warns when a template has more images on one CodeBuild compute type
//! than the account's concurrent-build quota starts at once (against moto's server for the
//! registry read that `--live` also does).

mod common;

use common::{cib_on, run, text};

use cib_testkit::MotoServer;

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
    let default = run(cib_on(&moto).arg("check").arg(&template).arg("--live"));
    let stdout = text(&default.stdout);
    assert_eq!(default.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("CIB055"), "{stdout}");
    assert!(stdout.contains("3 images build on ARM/Large"), "{stdout}");

    // The account's quota, given: 3 fit.
    let given =
        run(cib_on(&moto)
            .arg("check")
            .arg(&template)
            .args(["--live", "--codebuild-quota", "3"]));
    assert!(
        !text(&given.stdout).contains("CIB055"),
        "{}",
        text(&given.stdout)
    );

    // Offline checks say nothing about the account.
    let offline = run(cib_on(&moto).arg("check").arg(&template));
    assert!(!text(&offline.stdout).contains("CIB055"));
}
