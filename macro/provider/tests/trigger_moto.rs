//! The trigger's lifecycle against moto (ECR and CodeBuild in three regions), with the
//! recorder standing in for CloudFormation's response URL.

mod common;

use common::*;
use serde_json::json;

const TRIGGER: &str = "Custom::ContainerImageBuild";
const REPLICAS: [&str; 2] = ["us-west-2", "eu-west-1"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_with_a_new_tag_starts_one_build_and_does_not_answer() {
    let env = setup().await;
    env.create_resources(&REPLICAS).await;
    let props = trigger_properties("prod", &REPLICAS);
    let out = env
        .handle(&cfn_event(
            &env, "Create", "c-1", TRIGGER, &props, None, None,
        ))
        .await;
    assert_eq!(out["action"], "build-started", "{out}");
    assert_eq!(out["tag"], tag_of(&props).as_str());
    assert_eq!(env.builds().await.len(), 1);
    assert!(
        env.recorder.puts().is_empty(),
        "the build answers, not the provider"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_delivery_starts_one_build() {
    let env = setup().await;
    env.create_resources(&[]).await;
    let event = cfn_event(
        &env,
        "Create",
        "dup-1",
        TRIGGER,
        &trigger_properties("prod", &[]),
        None,
        None,
    );
    assert_eq!(env.handle(&event).await["action"], "build-started");
    assert_eq!(env.handle(&event).await["action"], "duplicate");
    assert_eq!(env.builds().await.len(), 1);
    assert!(env.recorder.puts().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_with_an_existing_tag_answers_success_at_once() {
    let env = setup().await;
    env.create_resources(&REPLICAS).await;
    let props = trigger_properties("prod", &REPLICAS);
    let tag = tag_of(&props);
    let digest = env
        .push_image(&tag, &[HOME, "us-west-2", "eu-west-1"])
        .await;
    env.handle(&cfn_event(
        &env, "Create", "c-2", TRIGGER, &props, None, None,
    ))
    .await;
    assert!(
        env.builds().await.is_empty(),
        "no build for an existing image"
    );
    let puts = env.recorder.puts();
    assert_eq!(puts.len(), 1);
    let v = puts[0].json();
    assert_eq!(v["Status"], "SUCCESS", "{v}");
    let uri = format!("{ACCOUNT}.dkr.ecr.{HOME}.amazonaws.com/{REPO}");
    assert_eq!(v["Data"]["ImageDigest"], digest.as_str());
    assert_eq!(v["Data"]["ImageUri"], format!("{uri}:{tag}"));
    assert_eq!(v["Data"]["ImageUriWithDigest"], format!("{uri}@{digest}"));
    assert_eq!(v["Data"]["RepositoryName"], REPO);
    assert_eq!(
        v["Data"]["ImageUri.eu-west-1"],
        format!("{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/{REPO}:{tag}")
    );
    assert!(
        v["PhysicalResourceId"]
            .as_str()
            .is_some_and(|p| p.starts_with("ApiImage-"))
    );
}

/// A tag missing in a replica region is never rebuilt (the tag would move). A named
/// repository (outside `cib/`, where the provider may not write) is not copied either: the
/// resource fails saying how to fix it. Generated repositories: tests/backfill_moto.rs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_missing_in_a_replica_of_a_named_repository_fails_without_a_build() {
    let env = setup().await;
    env.create_resources(&REPLICAS).await;
    let props = trigger_properties("prod", &REPLICAS);
    env.push_image(&tag_of(&props), &[HOME, "us-west-2"]).await;
    env.handle(&cfn_event(
        &env, "Create", "c-3", TRIGGER, &props, None, None,
    ))
    .await;
    assert!(env.builds().await.is_empty(), "never rebuilt");
    let v = env.recorder.puts()[0].json();
    assert_eq!(v["Status"], "FAILED", "{v}");
    let reason = v["Reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("missing in eu-west-1") && reason.contains("generated repositories"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_of_a_build_arg_builds_a_new_tag_and_the_rollback_is_instant() {
    let env = setup().await;
    env.create_resources(&[]).await;
    let old = trigger_properties("prod", &[]);
    let new = trigger_properties("canary", &[]);
    let old_tag = tag_of(&old);
    assert_ne!(old_tag, tag_of(&new));
    env.push_image(&old_tag, &[HOME]).await;
    let physical = "ApiImage-0123456789abcdef";

    let out = env
        .handle(&cfn_event(
            &env,
            "Update",
            "u-1",
            TRIGGER,
            &new,
            Some(&old),
            Some(physical),
        ))
        .await;
    assert_eq!(out["action"], "build-started");
    assert_eq!(out["tag"], tag_of(&new).as_str());
    assert_eq!(env.builds().await.len(), 1);

    // The build failed; CloudFormation rolls back with an Update to the old properties.
    env.handle(&cfn_event(
        &env,
        "Update",
        "u-2",
        TRIGGER,
        &old,
        Some(&new),
        Some(physical),
    ))
    .await;
    assert_eq!(env.builds().await.len(), 1, "no build for the rollback");
    let puts = env.recorder.puts_to("/cfn/u-2?X-Amz-Signature=x");
    assert_eq!(puts.len(), 1);
    let v = puts[0].json();
    assert_eq!(v["Status"], "SUCCESS");
    assert_eq!(
        v["PhysicalResourceId"], physical,
        "the physical id never changes"
    );
    assert_eq!(v["Data"]["ImageTag"], old_tag.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_answers_success_and_leaves_images() {
    let env = setup().await;
    env.create_resources(&[]).await;
    let props = trigger_properties("prod", &[]);
    env.push_image(&tag_of(&props), &[HOME]).await;
    let physical = "ApiImage-0123456789abcdef";
    env.handle(&cfn_event(
        &env,
        "Delete",
        "d-1",
        TRIGGER,
        &props,
        None,
        Some(physical),
    ))
    .await;
    let v = env.recorder.puts()[0].json();
    assert_eq!(v["Status"], "SUCCESS");
    assert_eq!(v["PhysicalResourceId"], physical);
    let images = env
        .ecr(HOME)
        .describe_images()
        .repository_name(REPO)
        .send()
        .await
        .expect("describe");
    assert_eq!(images.image_details().len(), 1);
    assert!(env.builds().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_project_answers_failed_naming_it() {
    let env = setup().await;
    env.create_resources(&[]).await;
    let mut props = trigger_properties("prod", &[]);
    props["ProjectName"] = json!("stack-ContainerImageBuildProjectGone");
    env.handle(&cfn_event(
        &env, "Create", "f-1", TRIGGER, &props, None, None,
    ))
    .await;
    let v = env.recorder.puts()[0].json();
    assert_eq!(v["Status"], "FAILED");
    let reason = v["Reason"].as_str().unwrap_or_default();
    assert!(reason.contains("ProjectName"), "{reason}");
    assert!(
        reason.contains("stack-ContainerImageBuildProjectGone"),
        "{reason}"
    );
    assert!(env.builds().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reason_longer_than_4k_is_truncated_into_valid_json() {
    let env = setup().await;
    env.create_resources(&[]).await;
    let mut props = trigger_properties("prod", &[]);
    // The reason names the offending property path, here over 5 KB long.
    let mut args = serde_json::Map::new();
    args.insert(format!("bad-{}", "é".repeat(2600)), json!("x"));
    props["BuildArgs"] = serde_json::Value::Object(args);
    env.handle(&cfn_event(
        &env, "Create", "f-2", TRIGGER, &props, None, None,
    ))
    .await;
    let put = &env.recorder.puts()[0];
    assert!(put.body.len() <= 4096, "{} bytes", put.body.len());
    let v = put.json();
    assert_eq!(v["Status"], "FAILED");
    assert_eq!(v["RequestId"], "f-2");
    assert!(
        v["Reason"]
            .as_str()
            .is_some_and(|r| r.contains(" [truncated] "))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_properties_answer_failed_naming_the_property() {
    let env = setup().await;
    let mut props = trigger_properties("prod", &[]);
    props["BuildArgs"] = json!({"CIB_RESPONSE_URL": "https://elsewhere"});
    env.handle(&cfn_event(
        &env, "Create", "f-3", TRIGGER, &props, None, None,
    ))
    .await;
    let v = env.recorder.puts()[0].json();
    assert_eq!(v["Status"], "FAILED");
    assert!(
        v["Reason"]
            .as_str()
            .unwrap_or_default()
            .contains("BuildArgs.CIB_RESPONSE_URL")
    );
}

/// A build-state event of a build started for request `b-1`, whose response URL (the
/// recorder's) is stored in SSM as the provider stores it; the event carries only the
/// parameter's name, as CodeBuild shows a PARAMETER_STORE variable.
async fn build_state(env: &Env, status: &str, phases: serde_json::Value) -> serde_json::Value {
    let parameter =
        store_response_url(env, "b-1", &env.recorder.url("/cfn/b-1?X-Amz-Signature=x")).await;
    build_state_event(&parameter, status, phases)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_build_is_answered_failed_from_the_event() {
    let env = setup().await;
    env.create_resources(&[]).await;
    let event = build_state(
        &env,
        "TIMED_OUT",
        json!([
            {"phase-type": "SUBMITTED", "phase-status": "SUCCEEDED"},
            {"phase-type": "BUILD", "phase-status": "TIMED_OUT", "phase-context": ["BUILD_TIMED_OUT: Build has timed out."]},
            {"phase-type": "FINALIZING", "phase-status": "SUCCEEDED"},
            {"phase-type": "COMPLETED"}
        ]),
    )
    .await;
    env.handle(&event).await;
    let puts = env.recorder.puts();
    assert_eq!(puts.len(), 1);
    let v = puts[0].json();
    assert_eq!(v["Status"], "FAILED");
    assert_eq!(v["RequestId"], "b-1");
    assert_eq!(v["PhysicalResourceId"], "ApiImage-0123456789abcdef");
    let reason = v["Reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("TIMED_OUT in phase BUILD (BUILD_TIMED_OUT"),
        "{reason}"
    );
    assert!(
        reason.contains("https://console.aws.amazon.com/cloudwatch"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_build_whose_final_phase_answered_is_not_answered_again() {
    let env = setup().await;
    let event = build_state(
        &env,
        "FAILED",
        json!([
            {"phase-type": "BUILD", "phase-status": "FAILED"},
            {"phase-type": "POST_BUILD", "phase-status": "SUCCEEDED"}
        ]),
    )
    .await;
    assert_eq!(env.handle(&event).await["action"], "ignored");
    assert!(env.recorder.puts().is_empty());
}

/// The repository the expansion generates for `ApiImage` of [`STACK_ID`].
const GENERATED_REPO: &str = "cib/apiimage-11111111-2222-3333-4444-555555555555";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixed_tag_moves_back_to_the_image_its_content_tag_names_without_a_build() {
    let env = setup().await;
    env.create_resources(&[]).await;
    let repo = GENERATED_REPO;
    env.ecr(HOME)
        .create_repository()
        .repository_name(repo)
        .image_tag_mutability(aws_sdk_ecr::types::ImageTagMutability::Mutable)
        .send()
        .await
        .expect("create repository");
    let mut old = in_repository(trigger_properties("prod", &[]), GENERATED_REPO);
    old["ImageTag"] = json!("release");
    let mut new = old.clone();
    new["BuildArgs"]["STAGE"] = json!("next");
    let content = |props: &serde_json::Value| {
        let serde_json::Value::Object(m) = props else {
            panic!("properties are an object")
        };
        let p = cib_provider::properties::TriggerProperties::parse(m).expect("parse");
        cib_trigger::tag::content_tag(&p).expect("content tag")
    };
    // The old build pushed its image under the fixed tag and its content tag; the failed
    // update's build moved the fixed tag to another image.
    let put = |tag: String, layer: &'static str| {
        let ecr = env.ecr(HOME);
        async move {
            let manifest = json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                           "size": 7023, "digest": format!("sha256:{}", layer.repeat(64))},
                "layers": []
            })
            .to_string();
            use sha2::Digest;
            let digest = format!("sha256:{}", hex::encode(sha2::Sha256::digest(&manifest)));
            ecr.put_image()
                .repository_name(repo)
                .image_digest(digest)
                .image_manifest(manifest)
                .image_tag(tag)
                .send()
                .await
                .expect("put image")
                .image()
                .and_then(|i| i.image_id())
                .and_then(|i| i.image_digest())
                .unwrap_or_default()
                .to_string()
        }
    };
    let old_digest = put(content(&old), "a").await;
    put("release".into(), "a").await;
    put(content(&new), "b").await;
    put("release".into(), "b").await;

    // The update rollback: CloudFormation sends the old properties back.
    let rollback = cfn_event(
        &env,
        "Update",
        "fx-1",
        TRIGGER,
        &old,
        Some(&new),
        Some("ApiImage-0123456789abcdef"),
    );
    let out = env.handle(&rollback).await;
    assert_eq!(out["action"], "answered", "{out}");
    assert!(
        env.builds().await.is_empty(),
        "no build for a rollback whose image exists"
    );
    let v = env.recorder.puts()[0].json();
    assert_eq!(v["Status"], "SUCCESS", "{v}");
    assert_eq!(v["Data"]["ImageDigest"], old_digest.as_str());
    assert_eq!(v["Data"]["ImageTag"], "release");
    let now = cib_provider::aws::ecr::image_digest(&env.ecr(HOME), repo, "release")
        .await
        .expect("lookup");
    assert_eq!(
        now.as_deref(),
        Some(old_digest.as_str()),
        "the fixed tag moved back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_region_without_the_repository_gets_one_with_our_settings_before_the_build() {
    let env = setup().await;
    env.create_resources(&[]).await;
    let repo = GENERATED_REPO;
    env.ecr(HOME)
        .create_repository()
        .repository_name(repo)
        .send()
        .await
        .expect("create home repository");
    let props = in_repository(trigger_properties("prod", &["us-west-2"]), GENERATED_REPO);
    let out = env
        .handle(&cfn_event(
            &env, "Create", "rr-1", TRIGGER, &props, None, None,
        ))
        .await;
    assert_eq!(out["action"], "build-started", "{out}");
    let replica = env
        .ecr("us-west-2")
        .describe_repositories()
        .repository_names(repo)
        .send()
        .await
        .expect("the replica repository exists");
    let created = &replica.repositories()[0];
    assert_eq!(
        created.image_tag_mutability().map(|m| m.as_str()),
        Some("IMMUTABLE")
    );
    let policy = env
        .ecr("us-west-2")
        .get_lifecycle_policy()
        .repository_name(repo)
        .send()
        .await
        .expect("a lifecycle policy");
    assert_eq!(
        policy.lifecycle_policy_text(),
        Some(cib_provider::aws::ecr::IMAGE_LIFECYCLE_POLICY)
    );
}

/// The repository's tags, by key.
async fn repository_tags(env: &Env) -> Vec<String> {
    let arn = format!("arn:aws:ecr:{HOME}:{ACCOUNT}:repository/{REPO}");
    env.ecr(HOME)
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .expect("list tags")
        .tags()
        .iter()
        .map(|t| t.key().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_markers_stay_within_ecr_s_50_tags_and_go_with_their_trigger() {
    let env = setup().await;
    env.create_resources(&[]).await;
    let props = trigger_properties("prod", &[]);
    let create = cfn_event(&env, "Create", "m-1", TRIGGER, &props, None, None);
    assert_eq!(env.handle(&create).await["action"], "build-started");
    let markers = |tags: &[String]| tags.iter().filter(|k| k.starts_with("cib-build:")).count();
    assert_eq!(
        markers(&repository_tags(&env).await),
        1,
        "the build is recorded"
    );

    // CloudFormation deletes the trigger: its marker goes with it.
    let delete = cfn_event(
        &env,
        "Delete",
        "m-2",
        TRIGGER,
        &props,
        None,
        Some("ApiImage-0123456789abcdef"),
    );
    env.handle(&delete).await;
    assert_eq!(
        markers(&repository_tags(&env).await),
        0,
        "the marker is removed"
    );

    // A repository already holding ECR's 50 tags (its owner's): the build starts, no
    // marker is attempted (ECR would refuse the 51st tag), nothing is refused.
    let arn = format!("arn:aws:ecr:{HOME}:{ACCOUNT}:repository/{REPO}");
    let owner_tags: Vec<aws_sdk_ecr::types::Tag> = (0..50)
        .map(|i| {
            aws_sdk_ecr::types::Tag::builder()
                .key(format!("team-{i}"))
                .value("x")
                .build()
                .expect("tag")
        })
        .collect();
    env.ecr(HOME)
        .tag_resource()
        .resource_arn(&arn)
        .set_tags(Some(owner_tags))
        .send()
        .await
        .expect("tag the repository");
    let again = cfn_event(&env, "Create", "m-3", TRIGGER, &props, None, None);
    assert_eq!(env.handle(&again).await["action"], "build-started");
    let tags = repository_tags(&env).await;
    assert_eq!((tags.len(), markers(&tags)), (50, 0));
    assert!(env.moto.refusals().is_empty(), "{:?}", env.moto.refusals());
}
