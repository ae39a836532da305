//! The provider binary through the real `lambda_runtime` loop, against the Runtime API
//! emulator, moto and the recorder.

use std::path::Path;
use std::time::Duration;

mod common;

use cib_testkit::{Outcome, RuntimeApi};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn the_lambda_answers_an_event_through_the_runtime_loop() {
    let test = common::setup().await;
    let (moto, recorder) = (&test.moto, &test.recorder);
    let api = RuntimeApi::start();
    let mut env = common::binary_env_as(moto, "ProviderRole", common::PROVIDER_ACCESS_KEY);
    env.push(("CIB_ALLOW_HTTP_RESPONSE_URL".into(), "true".into()));
    let event = json!({
        "RequestType": "Delete",
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:ContainerImageBuild-Provider",
        "ResponseURL": recorder.url("/cfn/lambda-1"),
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
        "RequestId": "lambda-1",
        "LogicalResourceId": "ApiImage",
        "PhysicalResourceId": "ApiImage-0123456789abcdef",
        "ResourceType": "Custom::ContainerImageBuild",
        "ResourceProperties": {}
    });
    // CloudFormation deletes the resource and waits for this answer.
    let event = test.play(&event).await;
    let binary = Path::new(env!("CARGO_BIN_EXE_cib-provider"));
    let outcome = api
        .run_once(binary, &env, &event, Duration::from_secs(60))
        .expect("the handler answers");
    let Outcome::Response(_) = &outcome else {
        panic!("handler failed: {outcome:?}")
    };
    assert_eq!(outcome.json()["action"], "answered");
    let puts = recorder.puts();
    assert_eq!(puts.len(), 1);
    assert_eq!(puts[0].json()["Status"], "SUCCESS");

    // An event it cannot handle is reported to the runtime as an error.
    let outcome = api
        .run_once(
            binary,
            &env,
            &json!({"hello": "world"}),
            Duration::from_secs(60),
        )
        .expect("the handler answers");
    assert!(matches!(outcome, Outcome::Error(_)), "{outcome:?}");
}
