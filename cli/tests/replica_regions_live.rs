//! `cib check --live` (and so `cib deploy`) warns about a replica region where the support
//! stack was never deployed, naming the region and `cib bootstrap --region`; once the
//! region has it, the warning is gone (against moto's CloudFormation in both regions).

mod common;

use common::{cib_on, run, text};

use cib_testkit::MotoServer;

#[test]
fn a_replica_region_without_the_support_stack_is_named_until_it_has_one() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let template = dir.path().join("replicas.yaml");
    std::fs::write(
        &template,
        "Resources:\n  Api:\n    Type: Custom::ContainerImageBuild\n    Properties:\n      \
         Source: {S3Bucket: b, S3Key: k.zip}\n      ReplicaRegions: [us-west-2, eu-west-1]\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));

    let before = run(cib_on(&moto).arg("check").arg(&template).arg("--live"));
    let stdout = text(&before.stdout);
    assert_eq!(before.status.code(), Some(0), "a warning: {stdout}");
    for region in ["us-west-2", "eu-west-1"] {
        assert!(
            stdout.contains(&format!("replica region {region} has no support stack"))
                && stdout.contains(&format!("cib bootstrap --region {region}")),
            "{stdout}"
        );
    }
    assert!(stdout.contains("CIB091"), "{stdout}");

    // The support stack (any template will do for the check) in us-west-2.
    create_support_stack(&moto, "us-west-2");

    let after = run(cib_on(&moto).arg("check").arg(&template).arg("--live"));
    let stdout = text(&after.stdout);
    assert!(
        !stdout.contains("replica region us-west-2 has no support stack"),
        "{stdout}"
    );
    assert!(
        stdout.contains("replica region eu-west-1 has no support stack"),
        "{stdout}"
    );
}

/// A stack named as `cib bootstrap` names the support stack, in `region` of moto.
fn create_support_stack(moto: &MotoServer, region: &str) {
    let (runtime, config) = common::sdk_in(moto, region);
    runtime
        .block_on(
            aws_sdk_cloudformation::Client::new(&config)
                .create_stack()
                .stack_name("ContainerImageBuild")
                .template_body(r#"{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}"#)
                .send(),
        )
        .unwrap_or_else(|e| panic!("create the support stack: {e:?}"));
}
