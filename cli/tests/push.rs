//! `cib push` against moto's ECR: digest and URI printed, the manifest stored byte for byte
//! under the digest's hex, a second push that uploads nothing and says so, and clear
//! failures for a missing repository, a bad tag and a hostile tarball.

mod common;

use common::{cib_on, run, text};

use std::path::Path;

use cib_registry::digest::Digest;
use cib_registry::manifest::MediaType;
use cib_registry::tar::write;
use cib_testkit::MotoServer;
use serde_json::json;

use common::REGION;

/// An OCI layout tarball with one uncompressed layer; returns the manifest's bytes.
fn write_tarball(path: &Path, content: &[u8]) -> Vec<u8> {
    let mut layer = write::file("hello.txt", content);
    layer.extend(write::end());
    let config = serde_json::to_vec(&json!({
        "architecture": "arm64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [Digest::of(&layer).as_str()]},
    }))
    .unwrap_or_default();
    let d = |media_type: &str, bytes: &[u8]| json!({"mediaType": media_type, "digest": Digest::of(bytes).as_str(), "size": bytes.len()});
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": MediaType::OCI_MANIFEST,
        "config": d(MediaType::OCI_CONFIG, &config),
        "layers": [d(MediaType::OCI_LAYER_TAR, &layer)],
    }))
    .unwrap_or_default();
    let index = serde_json::to_vec(
        &json!({"schemaVersion": 2, "manifests": [d(MediaType::OCI_MANIFEST, &manifest)]}),
    )
    .unwrap_or_default();
    let mut tar = Vec::new();
    tar.extend(write::file(
        "oci-layout",
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    ));
    tar.extend(write::file("index.json", &index));
    for blob in [&config, &manifest, &layer] {
        tar.extend(write::file(
            &format!("blobs/sha256/{}", Digest::of(blob).hex()),
            blob,
        ));
    }
    tar.extend(write::end());
    std::fs::write(path, tar).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    manifest
}

fn ecr(moto: &MotoServer) -> (tokio::runtime::Runtime, aws_sdk_ecr::Client) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let config = aws_sdk_ecr::Config::builder()
        .behavior_version(aws_sdk_ecr::config::BehaviorVersion::latest())
        .region(aws_sdk_ecr::config::Region::new(REGION))
        .endpoint_url(moto.endpoint())
        .credentials_provider(aws_sdk_ecr::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .build();
    (runtime, aws_sdk_ecr::Client::from_conf(config))
}

#[test]
fn push_prints_digest_and_uri_and_a_second_push_uploads_nothing() {
    let moto = MotoServer::start();
    let (runtime, client) = ecr(&moto);
    runtime
        .block_on(client.create_repository().repository_name("app").send())
        .unwrap_or_else(|e| panic!("create repository: {e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let tarball = dir.path().join("app.tar");
    let manifest = write_tarball(&tarball, b"hello\n");
    let digest = Digest::of(&manifest);
    let tarball_arg = tarball.display().to_string();

    let first = run(cib_on(&moto).args(["push", &tarball_arg, "--repository", "app"]));
    let (stdout, stderr) = (text(&first.stdout), text(&first.stderr));
    assert!(
        first.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains(&format!("digest: {digest}")), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "uri: 123456789012.dkr.ecr.{REGION}.amazonaws.com/app:{}",
            digest.hex()
        )),
        "{stdout}"
    );
    assert!(
        stderr.contains("2 blobs") && stderr.contains("2 to upload"),
        "{stderr}"
    );
    let stored = runtime
        .block_on(
            client
                .batch_get_image()
                .repository_name("app")
                .image_ids(
                    aws_sdk_ecr::types::ImageIdentifier::builder()
                        .image_tag(digest.hex())
                        .build(),
                )
                .send(),
        )
        .unwrap_or_else(|e| panic!("batch get image: {e}"));
    let stored = stored
        .images()
        .first()
        .and_then(|i| i.image_manifest())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(stored.as_bytes(), manifest.as_slice());

    let second = run(cib_on(&moto).args([
        "push",
        &tarball_arg,
        "--repository",
        "app",
        "--region",
        REGION,
    ]));
    let (stdout, stderr) = (text(&second.stdout), text(&second.stderr));
    assert!(
        second.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stderr.contains("no blob uploaded"), "{stderr}");
    assert!(stdout.contains(&format!("digest: {digest}")), "{stdout}");

    let tagged =
        run(cib_on(&moto).args(["push", &tarball_arg, "--repository", "app", "--tag", "v1"]));
    assert!(tagged.status.success(), "{}", text(&tagged.stderr));
    assert!(
        text(&tagged.stdout).contains("/app:v1"),
        "{}",
        text(&tagged.stdout)
    );

    let missing = run(cib_on(&moto).args(["push", &tarball_arg, "--repository", "nope"]));
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing.stderr).contains("nope"),
        "{}",
        text(&missing.stderr)
    );

    let bad_tag =
        run(cib_on(&moto).args(["push", &tarball_arg, "--repository", "app", "--tag", "a/b"]));
    assert_eq!(bad_tag.status.code(), Some(1));
    assert!(
        text(&bad_tag.stderr).contains("--tag"),
        "{}",
        text(&bad_tag.stderr)
    );

    let hostile = dir.path().join("hostile.tar");
    let mut tar = write::file("../escape", b"x");
    tar.extend(write::end());
    std::fs::write(&hostile, tar).unwrap_or_else(|e| panic!("write: {e}"));
    let refused = run(cib_on(&moto).args([
        "push",
        &hostile.display().to_string(),
        "--repository",
        "app",
    ]));
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("../escape"),
        "{}",
        text(&refused.stderr)
    );
}
