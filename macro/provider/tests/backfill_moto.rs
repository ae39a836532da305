//! Replica back-fill against moto: a tag present in the home region and missing in a
//! replica region is copied there (same digest), never rebuilt; a replica holding another
//! digest fails the resource naming both; a tag missing at home is built as before.
//!
//! moto serves no layer downloads (GetDownloadUrlForLayer is not implemented), so the
//! replica is given the image's blobs first, as ECR replication would have; the manifest
//! and the tag are copied for real (BatchGetImage at home, PutImage in the replica).

mod common;

use std::time::{Duration, Instant};

use aws_sdk_ecr::primitives::Blob;
use common::*;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

const TRIGGER: &str = "Custom::ContainerImageBuild";
/// A generated repository name, as the engine writes them (`cib/<id>-<stack uuid>`).
const CIB_REPO: &str = "cib/apiimage-11111111-2222-3333-4444-555555555555";
/// The image's config blob.
const CONFIG: &[u8] =
    br#"{"architecture":"arm64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The trigger's properties for the generated repository [`CIB_REPO`].
fn props(replicas: &[&str]) -> Value {
    in_repository(trigger_properties("prod", replicas), CIB_REPO)
}

fn manifest(config: &[u8]) -> String {
    json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "size": config.len(), "digest": sha256(config)},
        "layers": []
    })
    .to_string()
}

async fn create_repository(env: &Env, region: &str) {
    env.ecr(region)
        .create_repository()
        .repository_name(CIB_REPO)
        .send()
        .await
        .expect("create repository");
}

/// Uploads `blob` into the repository of `region` (the layer-upload API).
async fn upload_blob(env: &Env, region: &str, blob: &[u8]) {
    let ecr = env.ecr(region);
    let upload = ecr
        .initiate_layer_upload()
        .repository_name(CIB_REPO)
        .send()
        .await
        .expect("initiate upload");
    let id = upload.upload_id().expect("upload id").to_string();
    ecr.upload_layer_part()
        .repository_name(CIB_REPO)
        .upload_id(&id)
        .part_first_byte(0)
        .part_last_byte(blob.len() as i64 - 1)
        .layer_part_blob(Blob::new(blob.to_vec()))
        .send()
        .await
        .expect("upload part");
    ecr.complete_layer_upload()
        .repository_name(CIB_REPO)
        .upload_id(&id)
        .layer_digests(sha256(blob))
        .send()
        .await
        .expect("complete upload");
}

/// Pushes the image with config `config` as `tag` into `region`; returns its digest.
async fn push(env: &Env, region: &str, tag: &str, config: &[u8]) -> String {
    upload_blob(env, region, config).await;
    let text = manifest(config);
    // The digest given explicitly, as ECR computes it (moto derives another from the layers).
    let out = env
        .ecr(region)
        .put_image()
        .repository_name(CIB_REPO)
        .image_digest(sha256(text.as_bytes()))
        .image_manifest(&text)
        .image_tag(tag)
        .send()
        .await
        .expect("put image");
    out.image()
        .and_then(|i| i.image_id())
        .and_then(|i| i.image_digest())
        .expect("digest")
        .to_string()
}

async fn digest_in(env: &Env, region: &str, tag: &str) -> Option<String> {
    cib_provider::aws::ecr::image_digest(&env.ecr(region), CIB_REPO, tag)
        .await
        .expect("lookup")
}

async fn handle(env: &Env, props: &Value, request_id: &str, time: Duration) -> Value {
    env.provider
        .handle(
            env.play(&cfn_event(
                env, "Create", request_id, TRIGGER, props, None, None,
            ))
            .await,
            Instant::now() + time,
        )
        .await
        .expect("handled");
    let puts = env.recorder.puts();
    assert_eq!(puts.len(), 1, "one answer");
    puts[0].json()
}

fn reason(v: &Value) -> &str {
    v["Reason"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_missing_in_a_replica_is_copied_from_home_with_the_same_digest() {
    let env = setup().await;
    env.create_project(PROJECT, Some(STACK_ID)).await;
    for region in [HOME, "us-west-2", "eu-west-1"] {
        create_repository(&env, region).await;
    }
    let props = props(&["us-west-2", "eu-west-1"]);
    let tag = tag_of(&props);
    let digest = push(&env, HOME, &tag, CONFIG).await;
    assert_eq!(push(&env, "us-west-2", &tag, CONFIG).await, digest);
    // Replication's blobs, without the tag.
    upload_blob(&env, "eu-west-1", CONFIG).await;
    assert_eq!(digest_in(&env, "eu-west-1", &tag).await, None);

    let v = handle(&env, &props, "bf-1", Duration::from_secs(300)).await;
    assert!(env.builds().await.is_empty(), "copied, not built");
    assert_eq!(v["Status"], "SUCCESS", "{v}");
    assert_eq!(v["Data"]["ImageDigest"], digest.as_str());
    assert_eq!(
        v["Data"]["ImageUri.eu-west-1"],
        format!("{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/{CIB_REPO}:{tag}")
    );
    assert_eq!(
        v["Data"]["ImageUri"],
        format!("{ACCOUNT}.dkr.ecr.{HOME}.amazonaws.com/{CIB_REPO}:{tag}")
    );
    assert_eq!(
        digest_in(&env, "eu-west-1", &tag).await.as_deref(),
        Some(digest.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_digest_in_a_replica_fails_naming_both_and_changes_nothing() {
    let env = setup().await;
    env.create_project(PROJECT, Some(STACK_ID)).await;
    for region in [HOME, "eu-west-1"] {
        create_repository(&env, region).await;
    }
    let props = props(&["eu-west-1"]);
    let tag = tag_of(&props);
    let home = push(&env, HOME, &tag, CONFIG).await;
    let other = push(&env, "eu-west-1", &tag, br#"{"os":"linux"}"#).await;
    assert_ne!(home, other);

    let v = handle(&env, &props, "bf-2", Duration::from_secs(300)).await;
    assert!(env.builds().await.is_empty());
    assert_eq!(v["Status"], "FAILED", "{v}");
    let r = reason(&v);
    assert!(r.contains(&home) && r.contains(&other), "{r}");
    assert!(r.contains("eu-west-1"), "{r}");
    assert_eq!(
        digest_in(&env, "eu-west-1", &tag).await.as_deref(),
        Some(other.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_missing_at_home_is_built_as_before() {
    let env = setup().await;
    env.create_project(PROJECT, Some(STACK_ID)).await;
    for region in [HOME, "eu-west-1"] {
        create_repository(&env, region).await;
    }
    let props = props(&["eu-west-1"]);
    push(&env, "eu-west-1", &tag_of(&props), CONFIG).await;
    let out = env
        .handle(&cfn_event(
            &env, "Create", "bf-3", TRIGGER, &props, None, None,
        ))
        .await;
    assert_eq!(out["action"], "build-started", "{out}");
    assert_eq!(env.builds().await.len(), 1);
    assert!(env.recorder.puts().is_empty());
}

/// The scan gate rejected an image after replication had copied it into a replica region
/// (the gate's wait for the replica ran out first): the home region lacks the tag, the
/// replica holds it. The next deploy of the same inputs removes the rejected image's tag
/// there before the rebuild, whose replication would otherwise find the immutable tag taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_image_that_replication_brought_later_is_untagged_before_the_rebuild() {
    let env = setup().await;
    env.create_project(PROJECT, Some(STACK_ID)).await;
    for region in [HOME, "eu-west-1", "us-west-2"] {
        create_repository(&env, region).await;
    }
    let mut props = props(&["eu-west-1", "us-west-2"]);
    props["Scan"] = json!({"FailOnSeverity": "HIGH"});
    let tag = tag_of(&props);
    let rejected = push(&env, "eu-west-1", &tag, CONFIG).await;

    let out = env
        .handle(&cfn_event(
            &env, "Create", "bf-7", TRIGGER, &props, None, None,
        ))
        .await;
    assert_eq!(out["action"], "build-started", "{out}");
    assert_eq!(env.builds().await.len(), 1);
    assert_eq!(
        digest_in(&env, "eu-west-1", &tag).await,
        None,
        "the rejected image {rejected} no longer holds the tag in eu-west-1"
    );

    // Without the gate, a tag in a replica is not the provider's to remove: it builds as
    // before (test a_tag_missing_at_home_is_built_as_before).
}

/// A KMS-encrypted home repository gets KMS-encrypted replicas (under the AWS managed key
/// of each replica region: a KMS key belongs to one region), created before the first push.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_of_a_kms_encrypted_repository_are_kms_encrypted() {
    use aws_sdk_ecr::types::{EncryptionConfiguration, EncryptionType};
    let env = setup().await;
    env.create_project(PROJECT, Some(STACK_ID)).await;
    env.ecr(HOME)
        .create_repository()
        .repository_name(CIB_REPO)
        .encryption_configuration(
            EncryptionConfiguration::builder()
                .encryption_type(EncryptionType::Kms)
                .kms_key(format!(
                    "arn:aws:kms:{HOME}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
                ))
                .build()
                .expect("encryption"),
        )
        .send()
        .await
        .expect("create the KMS repository");
    let props = props(&["eu-central-1"]);
    let out = env
        .handle(&cfn_event(
            &env, "Create", "bf-8", TRIGGER, &props, None, None,
        ))
        .await;
    assert_eq!(out["action"], "build-started", "{out}");
    let replica = env
        .ecr("eu-central-1")
        .describe_repositories()
        .repository_names(CIB_REPO)
        .send()
        .await
        .expect("the replica repository exists before the push");
    let encryption = replica.repositories()[0]
        .encryption_configuration()
        .map(|c| c.encryption_type().clone());
    assert_eq!(encryption, Some(EncryptionType::Kms));
}

/// A replica region without the repository gets one with our settings. Its blobs cannot be
/// seeded before it exists and moto cannot serve them from home, so the copy then fails:
/// the reason names the image, the region and what was copied, and nothing is tagged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_replica_repository_is_created_with_our_settings() {
    let env = setup().await;
    env.create_project(PROJECT, Some(STACK_ID)).await;
    create_repository(&env, HOME).await;
    let props = props(&["ap-southeast-2"]);
    let tag = tag_of(&props);
    push(&env, HOME, &tag, CONFIG).await;

    let v = handle(&env, &props, "bf-4", Duration::from_secs(300)).await;
    assert!(env.builds().await.is_empty());
    assert_eq!(v["Status"], "FAILED", "{v}");
    let r = reason(&v);
    assert!(r.contains("ap-southeast-2") && r.contains(CIB_REPO), "{r}");
    assert!(r.contains("GetDownloadUrlForLayer"), "{r}");
    assert!(r.contains("0 of 1 missing blobs"), "{r}");
    assert!(r.contains("nothing tagged"), "{r}");

    let replica = env.ecr("ap-southeast-2");
    let out = replica
        .describe_repositories()
        .repository_names(CIB_REPO)
        .send()
        .await
        .expect("the replica repository exists");
    let repo = &out.repositories()[0];
    assert_eq!(
        repo.image_tag_mutability().map(|m| m.as_str()),
        Some("IMMUTABLE")
    );
    assert_eq!(
        repo.image_scanning_configuration()
            .map(|c| c.scan_on_push()),
        Some(true)
    );
    assert_eq!(
        repo.encryption_configuration()
            .map(|c| c.encryption_type().as_str()),
        Some("AES256")
    );
    let policy = replica
        .get_lifecycle_policy()
        .repository_name(CIB_REPO)
        .send()
        .await
        .expect("lifecycle policy");
    assert_eq!(
        policy.lifecycle_policy_text(),
        Some(cib_provider::aws::ecr::IMAGE_LIFECYCLE_POLICY)
    );
    assert_eq!(digest_in(&env, "ap-southeast-2", &tag).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_little_time_left_fails_before_copying() {
    let env = setup().await;
    env.create_project(PROJECT, Some(STACK_ID)).await;
    for region in [HOME, "eu-west-1"] {
        create_repository(&env, region).await;
    }
    let props = props(&["eu-west-1"]);
    let tag = tag_of(&props);
    push(&env, HOME, &tag, CONFIG).await;
    upload_blob(&env, "eu-west-1", CONFIG).await;

    let v = handle(&env, &props, "bf-5", Duration::from_secs(65)).await;
    assert!(env.builds().await.is_empty());
    assert_eq!(v["Status"], "FAILED", "{v}");
    let r = reason(&v);
    assert!(
        r.contains("too little time") && r.contains("eu-west-1"),
        "{r}"
    );
    assert_eq!(digest_in(&env, "eu-west-1", &tag).await, None);
}

#[test]
fn the_replica_lifecycle_policy_is_the_creation_templates() {
    let stack = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/support-stack.yaml"
    ))
    .expect("support stack");
    assert!(stack.contains(cib_provider::aws::ecr::IMAGE_LIFECYCLE_POLICY));
}
