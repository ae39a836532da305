//! The on-failure destination: Lambda's invocation record of a request the provider gave
//! up on is answered FAILED (recorded by the recorder); the response PUT has a timeout.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use cib_provider::aws::respond;
use cib_testkit::http::{Handler, Request, Response, Server};
use common::*;
use serde_json::{Value, json};

const TRIGGER: &str = "Custom::ContainerImageBuild";

/// The example invocation record of the Lambda developer guide
/// (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html),
/// with `requestPayload` replaced by `payload`.
fn record(payload: Value) -> Value {
    let mut r: Value = serde_json::from_str(
        r#"{
        "version": "1.0",
        "timestamp": "2019-11-14T18:16:05.568Z",
        "requestContext": {
            "requestId": "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:ContainerImageBuild-Provider:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3
        },
        "requestPayload": {
            "ORDER_IDS": [
                "9e07af03-ce31-4ff3-xmpl-36dce652cb4f",
                "637de236-e7b2-464e-xmpl-baf57f86bb53",
                "a81ddca6-2c35-45c7-xmpl-c3a03a31ed15"
            ]
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled"
        },
        "responsePayload": {
            "errorMessage": "RequestId: e4b46cbf-b738-xmpl-8880-a18cdf61200e Process exited before completing request"
        }
    }"#,
    )
    .expect("documented record");
    r["requestPayload"] = payload;
    r
}

/// Hands `record` to the failure responder as Lambda would.
async fn respond_as(responder: &cib_provider::Provider, record: Value) -> Value {
    responder
        .handle(
            record,
            std::time::Instant::now() + std::time::Duration::from_secs(60),
        )
        .await
        .expect("handled")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_the_provider_gave_up_on_is_answered_failed() {
    let env = setup().await;
    let event = cfn_event(
        &env,
        "Create",
        "crash-1",
        TRIGGER,
        &trigger_properties("prod", &[]),
        None,
        None,
    );
    let responder = env.responder().await;
    let out = respond_as(&responder, record(event)).await;
    assert_eq!(out["action"], "answered", "{out}");
    let puts = env.recorder.puts_to("/cfn/crash-1?X-Amz-Signature=x");
    assert_eq!(puts.len(), 1);
    let v = puts[0].json();
    assert_eq!(v["Status"], "FAILED");
    assert_eq!(v["RequestId"], "crash-1");
    assert_eq!(v["StackId"], STACK_ID);
    assert_eq!(v["LogicalResourceId"], "ApiImage");
    assert!(
        v["PhysicalResourceId"]
            .as_str()
            .is_some_and(|p| p.starts_with("ApiImage-")),
        "{v}"
    );
    let reason = v["Reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("RetriesExhausted after 3 attempts"),
        "{reason}"
    );
    assert!(
        reason.contains("Process exited before completing request"),
        "{reason}"
    );
    assert!(
        reason.contains("/aws/lambda/ContainerImageBuild-Provider"),
        "{reason}"
    );
    assert!(
        env.builds().await.is_empty(),
        "nothing is retried from here"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_keeps_its_physical_id_and_other_records_are_left_alone() {
    let env = setup().await;
    let props = trigger_properties("prod", &[]);
    let event = cfn_event(
        &env,
        "Update",
        "crash-2",
        TRIGGER,
        &props,
        Some(&props),
        Some("ApiImage-0123456789abcdef"),
    );
    let responder = env.responder().await;
    respond_as(&responder, record(event)).await;
    let v = env.recorder.puts()[0].json();
    assert_eq!(v["Status"], "FAILED");
    assert_eq!(v["PhysicalResourceId"], "ApiImage-0123456789abcdef");

    // The documented record as is (not a CloudFormation request): nothing to answer.
    let out = respond_as(&responder, record(json!({"ORDER_IDS": ["x"]}))).await;
    assert_eq!(out["action"], "ignored");
    assert_eq!(env.recorder.puts().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_url_that_never_answers_times_out() {
    // Accepts the PUT and never answers (for longer than the test waits).
    let hanging: Handler = Arc::new(|_req: Request| {
        std::thread::sleep(Duration::from_secs(30));
        Response::new(200, "")
    });
    let server = Server::start(hanging);
    let started = Instant::now();
    let result = respond::put_with_timeout(
        &format!("{}/cfn/hang", server.base_url()),
        b"{}".to_vec(),
        Duration::from_millis(200),
    )
    .await;
    let e = result.expect_err("no answer is an error");
    assert!(e.to_string().contains("no answer within 200 ms"), "{e}");
    // 4 attempts of 200 ms and the pauses between them (0.5 + 1 + 2 s).
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(respond::PUT_TIMEOUT <= Duration::from_secs(30));
}

#[test]
fn the_same_binary_answers_a_failure_record_through_the_runtime_loop() {
    let moto = cib_testkit::MotoServer::start();
    let recorder = cib_testkit::ResponseRecorder::start();
    let api = cib_testkit::RuntimeApi::start();
    let mut env =
        common::binary_env_as(&moto, "FailureResponderRole", common::RESPONDER_ACCESS_KEY);
    // The recorder listens on http://127.0.0.1: every answer is checked against the URL
    // rules, which refuse it otherwise (see the response-URL tests).
    env.push(("CIB_ALLOW_HTTP_RESPONSE_URL".into(), "true".into()));
    let payload = json!({
        "RequestType": "Create",
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:ContainerImageBuild-Provider",
        "ResponseURL": recorder.url("/cfn/bin-1"),
        "StackId": STACK_ID,
        "RequestId": "bin-1",
        "LogicalResourceId": "ApiImage",
        "ResourceType": TRIGGER,
        "ResourceProperties": {}
    });
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_cib-provider"));
    let outcome = api
        .run_once(binary, &env, &record(payload), Duration::from_secs(60))
        .expect("the handler answers");
    assert!(
        matches!(outcome, cib_testkit::Outcome::Response(_)),
        "{outcome:?}"
    );
    let puts = recorder.puts();
    assert_eq!(puts.len(), 1);
    assert_eq!(puts[0].json()["Status"], "FAILED");
}
