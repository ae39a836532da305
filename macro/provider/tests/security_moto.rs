//! The provider's guards against moto (CodeBuild, ECR, SSM): it starts only the requesting
//! stack's own projects, keeps the response URL out of every build variable (SSM
//! SecureString), answers build-state events only from a parameter of the event's stack,
//! refuses override values CodeBuild would refuse, and checks the contract version.

mod common;

use common::*;
use serde_json::json;

const TRIGGER: &str = "Custom::ContainerImageBuild";
const OTHER_STACK: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/victim/99999999-8888-7777-6666-555555555555";

fn reason(v: &serde_json::Value) -> String {
    v["Reason"].as_str().unwrap_or_default().to_string()
}

/// The response parameter the provider names for request `request_id` of [`STACK_ID`].
fn parameter_name(request_id: &str) -> String {
    let hash = cib_provider::ids::short_hash(&[STACK_ID, request_id]);
    cib_contract::response_parameter_name(STACK_ID, &hash).expect("a stack ARN")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_gets_only_the_parameter_name_and_the_url_is_a_secure_string() {
    let env = setup().await;
    env.create_resources(&[]).await;
    let event = cfn_event(
        &env,
        "Create",
        "s-1",
        TRIGGER,
        &trigger_properties("prod", &[]),
        None,
        None,
    );
    assert_eq!(env.handle(&event).await["action"], "build-started");
    let stored = parameter(&env, &parameter_name("s-1")).await;
    let url = event["ResponseURL"].as_str().expect("url").to_string();
    assert_eq!(stored, Some((url, "SecureString".to_string())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_stacks_project_is_refused() {
    let env = setup().await;
    env.create_resources(&[]).await;
    let victim = "victim-ContainerImageBuildProjectAmd64";
    env.create_project(victim, Some(OTHER_STACK)).await;
    let mut props = trigger_properties("prod", &[]);
    props["ProjectName"] = json!(victim);
    env.handle(&cfn_event(
        &env, "Create", "o-1", TRIGGER, &props, None, None,
    ))
    .await;
    let v = env.recorder.puts()[0].json();
    assert_eq!(v["Status"], "FAILED");
    let r = reason(&v);
    assert!(
        r.contains("belongs to stack") && r.contains(OTHER_STACK),
        "{r}"
    );
    let builds = env
        .codebuild()
        .list_builds_for_project()
        .project_name(victim)
        .send()
        .await
        .expect("list builds");
    assert!(
        builds.ids().is_empty(),
        "no build of the other stack's project"
    );
    assert_eq!(parameter(&env, &parameter_name("o-1")).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untagged_or_foreign_named_project_is_refused() {
    let env = setup().await;
    env.create_resources(&[]).await;
    let untagged = "stack-ContainerImageBuildProjectHandmade";
    env.create_project(untagged, None).await;
    env.create_project("deploy-prod", Some(STACK_ID)).await;
    for (i, (name, expected)) in [
        (untagged, "has no `aws:cloudformation:stack-id` tag"),
        ("deploy-prod", "is not a ContainerImageBuild project"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut props = trigger_properties("prod", &[]);
        props["ProjectName"] = json!(name);
        let id = format!("o-{}", i + 2);
        env.handle(&cfn_event(&env, "Create", &id, TRIGGER, &props, None, None))
            .await;
        let puts = env
            .recorder
            .puts_to(&format!("/cfn/{id}?X-Amz-Signature=x"));
        let v = puts[0].json();
        assert_eq!(v["Status"], "FAILED");
        assert!(reason(&v).contains(expected), "{}", reason(&v));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_state_answer_reads_the_url_from_ssm_and_deletes_it() {
    let env = setup().await;
    env.create_resources(&[]).await;
    let url = env.recorder.url("/cfn/b-1?X-Amz-Signature=x");
    let name = store_response_url(&env, "b-1", &url).await;
    let event = build_state_event(
        &name,
        "FAULT",
        json!([{"phase-type": "PROVISIONING", "phase-status": "FAULT"}]),
    );
    let text = event.to_string();
    assert!(!text.contains("/cfn/b-1"), "the event never holds the URL");
    env.handle(&event).await;
    let puts = env.recorder.puts_to("/cfn/b-1?X-Amz-Signature=x");
    assert_eq!(puts.len(), 1);
    assert_eq!(puts[0].json()["Status"], "FAILED");
    assert_eq!(
        parameter(&env, &name).await,
        None,
        "the parameter is gone once answered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_state_event_naming_another_stacks_parameter_is_not_answered() {
    let env = setup().await;
    let hash = cib_provider::ids::short_hash(&[OTHER_STACK, "x"]);
    let foreign = cib_contract::response_parameter_name(OTHER_STACK, &hash).expect("arn");
    env.ssm()
        .put_parameter()
        .name(&foreign)
        .value(env.recorder.url("/cfn/victim?X-Amz-Signature=x"))
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .expect("put");
    let event = build_state_event(&foreign, "FAILED", json!([]));
    let out = env.handle(&event).await;
    assert_eq!(out["action"], "ignored", "{out}");
    assert!(env.recorder.puts().is_empty());
    assert!(parameter(&env, &foreign).await.is_some(), "left alone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_arg_over_4096_characters_fails_before_start_build() {
    let env = setup().await;
    env.create_resources(&[]).await;
    let mut props = trigger_properties("prod", &[]);
    props["BuildArgs"]["API_URL"] = json!("x".repeat(4097));
    env.handle(&cfn_event(
        &env, "Create", "l-1", TRIGGER, &props, None, None,
    ))
    .await;
    let v = env.recorder.puts()[0].json();
    assert_eq!(v["Status"], "FAILED");
    let r = reason(&v);
    assert!(r.contains("BuildArgs.API_URL") && r.contains("4096"), "{r}");
    assert!(env.builds().await.is_empty());
    assert_eq!(parameter(&env, &parameter_name("l-1")).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_inline_dockerfile_travels_compressed_and_an_incompressible_one_fails() {
    let env = setup().await;
    env.create_resources(&[]).await;
    let mut props = trigger_properties("prod", &[]);
    let long = "FROM public.ecr.aws/lambda/provided:al2023\n".to_string()
        + &"RUN echo building the application step by step\n".repeat(400);
    assert!(long.len() > 16_000);
    props["Source"] = json!({"Dockerfile": long});
    let out = env
        .handle(&cfn_event(
            &env, "Create", "l-2", TRIGGER, &props, None, None,
        ))
        .await;
    assert_eq!(out["action"], "build-started", "{out}");

    // Text that gzip cannot shrink: a pseudo-random sequence of letters and digits.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let noise: String = (0..6000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[(state % 36) as usize])
        })
        .collect();
    props["Source"] = json!({"Dockerfile": format!("FROM scratch\nLABEL x={noise}\n")});
    env.handle(&cfn_event(
        &env, "Create", "l-3", TRIGGER, &props, None, None,
    ))
    .await;
    let v = env.recorder.puts_to("/cfn/l-3?X-Amz-Signature=x")[0].json();
    assert_eq!(v["Status"], "FAILED");
    assert!(reason(&v).contains("Source.Dockerfile"), "{}", reason(&v));
    assert_eq!(env.builds().await.len(), 1, "only the first one built");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_versions_are_checked() {
    let env = setup().await;
    env.create_resources(&[]).await;
    let mut props = trigger_properties("prod", &[]);
    props["ContractVersion"] = json!("9");
    env.handle(&cfn_event(
        &env, "Create", "v-1", TRIGGER, &props, None, None,
    ))
    .await;
    let v = env.recorder.puts_to("/cfn/v-1?X-Amz-Signature=x")[0].json();
    assert_eq!(v["Status"], "FAILED");
    assert!(
        reason(&v).contains("ContractVersion: `9`"),
        "{}",
        reason(&v)
    );

    // A trigger of the previous contract: answered from an existing image (rollbacks),
    // never built.
    props["ContractVersion"] = json!("1");
    env.handle(&cfn_event(
        &env, "Create", "v-2", TRIGGER, &props, None, None,
    ))
    .await;
    let v = env.recorder.puts_to("/cfn/v-2?X-Amz-Signature=x")[0].json();
    assert_eq!(v["Status"], "FAILED");
    assert!(
        reason(&v).contains("expand the template again"),
        "{}",
        reason(&v)
    );
    env.push_image(&tag_of(&props), &[HOME]).await;
    env.handle(&cfn_event(
        &env, "Create", "v-3", TRIGGER, &props, None, None,
    ))
    .await;
    let v = env.recorder.puts_to("/cfn/v-3?X-Amz-Signature=x")[0].json();
    assert_eq!(v["Status"], "SUCCESS", "{v}");
    assert!(env.builds().await.is_empty());

    // Even with a fixed tag (which the current contract always rebuilds).
    props["ImageTag"] = json!("v1.2.3");
    env.push_image("v1.2.3", &[HOME]).await;
    env.handle(&cfn_event(
        &env,
        "Update",
        "v-4",
        TRIGGER,
        &props,
        None,
        Some("ApiImage-0123456789abcdef"),
    ))
    .await;
    let v = env.recorder.puts_to("/cfn/v-4?X-Amz-Signature=x")[0].json();
    assert_eq!(v["Status"], "SUCCESS", "{v}");
    assert_eq!(v["Data"]["ImageTag"], "v1.2.3");
    assert!(env.builds().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_builder_image_no_build_starts() {
    let mut env = setup().await;
    env.provider.settings.builder_image = String::new();
    env.create_resources(&[]).await;
    env.handle(&cfn_event(
        &env,
        "Create",
        "n-1",
        TRIGGER,
        &trigger_properties("prod", &[]),
        None,
        None,
    ))
    .await;
    let v = env.recorder.puts()[0].json();
    assert_eq!(v["Status"], "FAILED");
    assert!(reason(&v).contains("BuilderImage"), "{}", reason(&v));
    assert!(env.builds().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_of_another_stacks_project_cannot_answer_for_this_stack() {
    let env = setup().await;
    // A build of the other stack's project whose starter set this stack's variables.
    let theirs = "victim-ContainerImageBuildProjectAmd64";
    env.create_project(theirs, Some(OTHER_STACK)).await;
    let name =
        store_response_url(&env, "b-1", &env.recorder.url("/cfn/b-1?X-Amz-Signature=x")).await;
    let mut event = build_state_event(&name, "FAILED", json!([]));
    event["detail"]["project-name"] = json!(theirs);
    let out = env.handle(&event).await;
    assert_eq!(out["action"], "ignored", "{out}");
    assert!(
        out["why"]
            .as_str()
            .unwrap_or_default()
            .contains("belongs to stack"),
        "{out}"
    );
    assert!(env.recorder.puts().is_empty());
    assert!(
        parameter(&env, &name).await.is_some(),
        "left for the real build"
    );
}
