//! A multi-platform image's index resource against moto: the provider reads each
//! platform's manifest and writes the OCI image index over them with PutImage (at home and
//! in each replica region), answering the index's and each platform's attributes; a
//! repeated request writes nothing new; a missing platform manifest fails naming the
//! platform; a repository that is not the stack's own is refused.

mod common;

use std::time::Instant;

use common::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const CIB_REPO: &str = "cib/webimage-11111111-2222-3333-4444-555555555555";

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn uri(region: &str) -> String {
    format!("{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{CIB_REPO}")
}

/// A single-platform manifest for `arch`.
fn manifest(arch: &str) -> String {
    let config = format!(r#"{{"architecture":"{arch}","os":"linux"}}"#);
    json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "size": config.len(), "digest": sha256(config.as_bytes())},
        "layers": []
    })
    .to_string()
}

/// Pushes `arch`'s manifest under `tag` in `region` (as its platform build does); returns
/// its digest.
async fn push(env: &Env, region: &str, arch: &str, tag: &str) -> String {
    let text = manifest(arch);
    let digest = sha256(text.as_bytes());
    env.ecr(region)
        .put_image()
        .repository_name(CIB_REPO)
        .image_digest(&digest)
        .image_manifest(&text)
        .image_manifest_media_type("application/vnd.oci.image.manifest.v1+json")
        .image_tag(tag)
        .send()
        .await
        .expect("put platform image");
    digest
}

fn index_props(amd64: &str, arm64: &str, replicas: &[&str], repository: &str) -> Value {
    let props = json!({
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:ContainerImageBuild-Provider",
        "ContractVersion": "2",
        "ImageTagPrefix": "web-",
        "ReplicaRegions": replicas,
        "Manifests": [
            {"Platform": "linux/arm64", "ImageTag": "web-arm", "ImageDigest": arm64},
            {"Platform": "linux/amd64", "ImageTag": "web-amd", "ImageDigest": amd64}
        ]
    });
    in_repository(props, repository)
}

async fn setup_images(env: &Env, regions: &[&str]) -> (String, String) {
    let mut digests = (String::new(), String::new());
    for region in regions {
        // Immutable tags, as the expansion writes every generated repository.
        env.ecr(region)
            .create_repository()
            .repository_name(CIB_REPO)
            .image_tag_mutability(aws_sdk_ecr::types::ImageTagMutability::Immutable)
            .send()
            .await
            .expect("create repository");
        digests = (
            push(env, region, "amd64", "web-amd").await,
            push(env, region, "arm64", "web-arm").await,
        );
    }
    digests
}

async fn run(env: &Env, request_id: &str, props: &Value) -> Value {
    let event = cfn_event(
        env,
        "Create",
        request_id,
        "Custom::ContainerImageBuild",
        props,
        None,
        None,
    );
    let event = env.play(&event).await;
    env.provider
        .handle(event, Instant::now() + std::time::Duration::from_secs(600))
        .await
        .expect("answered");
    let puts = env
        .recorder
        .puts_to(&format!("/cfn/{request_id}?X-Amz-Signature=x"));
    assert_eq!(puts.len(), 1, "exactly one answer");
    puts[0].json()
}

/// Removes `tag` from the home repository (the image stays, untagged).
async fn untag_at_home(env: &Env, tag: &str) {
    env.ecr(HOME)
        .batch_delete_image()
        .repository_name(CIB_REPO)
        .image_ids(
            aws_sdk_ecr::types::ImageIdentifier::builder()
                .image_tag(tag)
                .build(),
        )
        .send()
        .await
        .expect("untag");
}

/// The manifest under `tag` in `region`, as ECR returns it.
async fn stored(env: &Env, region: &str, tag: &str) -> Option<(String, Value)> {
    let out = env
        .ecr(region)
        .batch_get_image()
        .repository_name(CIB_REPO)
        .image_ids(
            aws_sdk_ecr::types::ImageIdentifier::builder()
                .image_tag(tag)
                .build(),
        )
        .accepted_media_types("application/vnd.oci.image.index.v1+json")
        .send()
        .await
        .ok()?;
    let image = out.images().first()?;
    let text = image.image_manifest()?;
    Some((
        image.image_id()?.image_digest()?.to_owned(),
        serde_json::from_str(text).ok()?,
    ))
}

#[tokio::test]
async fn the_index_names_every_platform_and_reaches_the_replicas() {
    let env = setup().await;
    let (amd64, arm64) = setup_images(&env, &[HOME, "us-west-2"]).await;
    let props = index_props(&amd64, &arm64, &["us-west-2"], CIB_REPO);
    let v = run(&env, "idx-1", &props).await;
    assert_eq!(v["Status"], "SUCCESS", "{v}");
    let d = &v["Data"];
    let tag = d["ImageTag"].as_str().expect("tag").to_owned();
    assert!(tag.starts_with("web-") && tag.len() == 68, "{tag}");
    assert_eq!(d["ImageUri"], format!("{}:{tag}", uri(HOME)));
    assert_eq!(d["ImageUri.amd64"], format!("{}:web-amd", uri(HOME)));
    assert_eq!(d["ImageUri.arm64"], format!("{}:web-arm", uri(HOME)));
    assert_eq!(d["ImageDigest.amd64"], amd64.as_str());
    assert_eq!(d["ImageDigest.arm64"], arm64.as_str());
    assert_eq!(
        d["ImageUri.us-west-2"],
        format!("{}:{tag}", uri("us-west-2"))
    );

    let (digest, index) = stored(&env, HOME, &tag).await.expect("the index is tagged");
    assert_eq!(d["ImageDigest"], digest.as_str());
    assert_eq!(d["ImageUriWithDigest"], format!("{}@{digest}", uri(HOME)));
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let entries = index["manifests"].as_array().expect("entries");
    assert_eq!(entries.len(), 2, "one per platform, no attestations");
    assert_eq!(entries[0]["digest"], amd64.as_str());
    assert_eq!(
        entries[0]["platform"],
        json!({"architecture": "amd64", "os": "linux"})
    );
    assert_eq!(entries[0]["size"], manifest("amd64").len());
    assert_eq!(entries[1]["digest"], arm64.as_str());
    assert_eq!(
        entries[1]["platform"],
        json!({"architecture": "arm64", "os": "linux", "variant": "v8"})
    );
    let (replica_digest, _) = stored(&env, "us-west-2", &tag)
        .await
        .expect("the replica has the index");
    assert_eq!(
        replica_digest, digest,
        "the same index bytes in the replica"
    );

    // The same request again (a retried invocation, or a rollback to these properties):
    // the same tag and digest, nothing refused.
    let again = run(&env, "idx-2", &props).await;
    assert_eq!(again["Status"], "SUCCESS", "{again}");
    assert_eq!(again["Data"]["ImageDigest"], digest.as_str());
    assert_eq!(again["Data"]["ImageTag"], tag.as_str());
    assert!(env.moto.refusals().is_empty(), "{:?}", env.moto.refusals());

    // ECR replication delivered the index to the replica before the provider's own write
    // there (here: the home tag is gone, the replica's stays): writing it again where it
    // is already tagged with the same digest is done, not an error.
    untag_at_home(&env, &tag).await;
    let third = run(&env, "idx-3", &props).await;
    assert_eq!(third["Status"], "SUCCESS", "{third}");
    assert_eq!(third["Data"]["ImageDigest"], digest.as_str());
}

#[tokio::test]
async fn an_index_tag_held_by_another_digest_fails_naming_both() {
    let env = setup().await;
    let (amd64, arm64) = setup_images(&env, &[HOME]).await;
    let props = index_props(&amd64, &arm64, &[], CIB_REPO);
    let first = run(&env, "idx-o1", &props).await;
    let tag = first["Data"]["ImageTag"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let digest = first["Data"]["ImageDigest"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // Someone moved nothing, but the immutable tag now names another image: delete the index
    // and put a platform manifest under its tag.
    untag_at_home(&env, &tag).await;
    let other = push(&env, HOME, "arm64", &tag).await;
    let v = run(&env, "idx-o2", &props).await;
    assert_eq!(v["Status"], "FAILED", "{v}");
    let reason = v["Reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains(&tag) && reason.contains(&other) && reason.contains(&digest),
        "{reason}"
    );
}

#[tokio::test]
async fn a_missing_platform_manifest_fails_naming_the_platform_and_writes_nothing() {
    let env = setup().await;
    let (amd64, _) = setup_images(&env, &[HOME]).await;
    let absent = sha256(b"never pushed");
    let props = index_props(&amd64, &absent, &[], CIB_REPO);
    let v = run(&env, "idx-3", &props).await;
    assert_eq!(v["Status"], "FAILED");
    let reason = v["Reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains(&format!("the linux/arm64 manifest {absent}")),
        "{reason}"
    );
    assert!(v.get("Data").is_none());
    let images = env
        .ecr(HOME)
        .list_images()
        .repository_name(CIB_REPO)
        .send()
        .await
        .expect("list images");
    assert_eq!(images.image_ids().len(), 2, "only the two platform images");
}

#[tokio::test]
async fn another_stacks_repository_is_refused_and_delete_touches_nothing() {
    let env = setup().await;
    let (amd64, arm64) = setup_images(&env, &[HOME]).await;
    let foreign = "cib/webimage-99999999-2222-3333-4444-555555555555";
    let v = run(&env, "idx-4", &index_props(&amd64, &arm64, &[], foreign)).await;
    assert_eq!(v["Status"], "FAILED");
    assert!(
        v["Reason"]
            .as_str()
            .unwrap_or_default()
            .contains("not one of this stack's"),
        "{v}"
    );

    let props = index_props(&amd64, &arm64, &[], CIB_REPO);
    let event = cfn_event(
        &env,
        "Delete",
        "idx-5",
        "Custom::ContainerImageBuild",
        &props,
        None,
        Some("WebImage-1"),
    );
    let event = env.play(&event).await;
    env.provider
        .handle(event, Instant::now() + std::time::Duration::from_secs(60))
        .await
        .expect("answered");
    let puts = env.recorder.puts_to("/cfn/idx-5?X-Amz-Signature=x");
    assert_eq!(puts.len(), 1);
    assert_eq!(puts[0].json()["Status"], "SUCCESS");
}

#[tokio::test]
async fn an_index_written_before_entries_carried_a_variant_is_kept() {
    let env = setup().await;
    let (amd64, arm64) = setup_images(&env, &[HOME]).await;
    let props = index_props(&amd64, &arm64, &[], CIB_REPO);
    let serde_json::Value::Object(m) = &props else {
        panic!("an object")
    };
    let tag = cib_trigger::index::IndexProperties::parse(m)
        .expect("index properties")
        .tag()
        .expect("tag");
    // The index an earlier provider wrote: the same platform manifests, no variant.
    let old = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": amd64,
             "size": manifest("amd64").len(), "platform": {"architecture": "amd64", "os": "linux"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": arm64,
             "size": manifest("arm64").len(), "platform": {"architecture": "arm64", "os": "linux"}}
        ]
    })
    .to_string();
    let old_digest = sha256(old.as_bytes());
    env.ecr(HOME)
        .put_image()
        .repository_name(CIB_REPO)
        .image_digest(&old_digest)
        .image_manifest(&old)
        .image_manifest_media_type("application/vnd.oci.image.index.v1+json")
        .image_tag(&tag)
        .send()
        .await
        .expect("put the earlier index");
    let v = run(&env, "idx-v1", &props).await;
    assert_eq!(v["Status"], "SUCCESS", "{v}");
    assert_eq!(
        v["Data"]["ImageDigest"],
        old_digest.as_str(),
        "kept, not replaced"
    );
}
