//! The provider's requests are authorized against the support stack's `ProviderRole` in
//! every provider test (`common::setup`); this shows the enforcement bites: a role that
//! lacks one statement of `deploy/support-stack.yaml` makes the request it covers fail as
//! IAM would, with the action, the resource and the statement lacking in the message.

mod common;

use std::time::{Duration, Instant};

use cib_provider::Provider;
use cib_provider::aws::Clients;
use common::*;
use serde_json::Value;

const TRIGGER: &str = "Custom::ContainerImageBuild";

/// The provider role's policies without the statement `sid`.
fn without_statement(sid: &str) -> Vec<Value> {
    let mut policies = provider_role_policies();
    let mut removed = false;
    for policy in &mut policies {
        if let Some(statements) = policy.get_mut("Statement").and_then(Value::as_array_mut) {
            let before = statements.len();
            statements.retain(|s| s["Sid"] != sid);
            removed |= statements.len() < before;
        }
    }
    assert!(removed, "the provider role has a statement {sid}");
    policies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_the_role_does_not_allow_is_denied_naming_the_statement_lacking() {
    let env = setup().await;
    env.create_resources(&[]).await;
    const NARROW_KEY: &str = "AKIANARROWPROVIDER01";
    env.moto.enforce(
        NARROW_KEY,
        "ProviderRole",
        without_statement("VerifyRequestsWithCloudFormation"),
    );
    let narrow = Provider::new(
        Clients::new(sdk_signed_as(&env.moto, HOME, NARROW_KEY).await),
        test_settings(),
    );
    let event = cfn_event(
        &env,
        "Create",
        "iam-1",
        TRIGGER,
        &trigger_properties("prod", &[]),
        None,
        None,
    );
    let event = env.play(&event).await;
    let outcome = narrow
        .handle(event, Instant::now() + Duration::from_secs(60))
        .await;
    assert!(
        outcome.is_err(),
        "a CloudFormation read that fails fails the invocation: {outcome:?}"
    );
    assert!(env.builds().await.is_empty(), "nothing started");
    assert!(env.recorder.puts().is_empty(), "nothing answered");
    let denied = env.moto.take_denied();
    assert_eq!(denied.len(), 1, "{denied:?}");
    let message = &denied[0].message;
    assert!(
        message.contains("cloudformation:DescribeStackResource")
            && message.contains(STACK_ID)
            && message.contains("lacking"),
        "{message}"
    );

    // The role as written allows the same request.
    let event = cfn_event(
        &env,
        "Create",
        "iam-2",
        TRIGGER,
        &trigger_properties("prod", &[]),
        None,
        None,
    );
    let answer = env.handle(&event).await;
    assert_eq!(answer["action"], "build-started", "{answer}");
    assert!(env.moto.take_denied().is_empty());
}
