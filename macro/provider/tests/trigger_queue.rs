//! CodeBuild's queue is full: the provider hands the request on to a later invocation of
//! itself (Lambda Invoke, InvocationType Event) until the trigger's ServiceTimeout, and
//! every StartBuild carries the time left as its queued timeout.
//!
//! moto never answers AccountLimitExceededException and has no Lambda Invoke that records
//! its caller, so CodeBuild and Lambda are local HTTP endpoints on 127.0.0.1 here (ECR and
//! the response URL stay moto and the recorder).

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cib_testkit::http::{Handler, Request, Response, Server};
use common::*;
use serde_json::{Value, json};

const TRIGGER: &str = "Custom::ContainerImageBuild";
const FUNCTION: &str = "ContainerImageBuild-Provider";

type Seen = Arc<Mutex<Vec<Request>>>;

/// A CodeBuild endpoint that records requests, says the project is the stack's own, and
/// answers StartBuild with a full queue (`full`) or a started build.
fn codebuild_double(full: bool) -> (Server, Seen) {
    let seen: Seen = Arc::default();
    let s = Arc::clone(&seen);
    let handler: Handler = Arc::new(move |req: Request| {
        let target = req.header("x-amz-target").unwrap_or_default().to_string();
        if let Ok(mut v) = s.lock() {
            v.push(req);
        }
        if target.ends_with("BatchGetProjects") {
            // The provider starts only the requesting stack's own projects.
            return Response::new(
                200,
                json!({"projects": [{"name": PROJECT, "tags": [
                    {"key": "aws:cloudformation:stack-id", "value": STACK_ID}
                ]}]})
                .to_string(),
            )
            .with_header("content-type", "application/x-amz-json-1.1");
        }
        if !target.ends_with("StartBuild") {
            return Response::new(
                400,
                r#"{"__type":"InvalidInputException","message":"unexpected"}"#,
            );
        }
        if full {
            Response::new(
                400,
                r#"{"__type":"AccountLimitExceededException","message":"Cannot have more than 1 builds in queue for the account"}"#,
            )
            .with_header("content-type", "application/x-amz-json-1.1")
        } else {
            Response::new(
                200,
                json!({"build": {"id": format!("{PROJECT}:0b6d5e9a"), "buildStatus": "IN_PROGRESS"}}).to_string(),
            )
            .with_header("content-type", "application/x-amz-json-1.1")
        }
    });
    (Server::start(handler), seen)
}

/// A Lambda endpoint that records Invoke requests and answers 202 (queued).
fn lambda_double() -> (Server, Seen) {
    let seen: Seen = Arc::default();
    let s = Arc::clone(&seen);
    let handler: Handler = Arc::new(move |req: Request| {
        if let Ok(mut v) = s.lock() {
            v.push(req);
        }
        Response::new(202, "")
    });
    (Server::start(handler), seen)
}

fn provider_with(env: &Env, codebuild: &Server, lambda: &Server) -> cib_provider::Provider {
    let mut p = env.provider.clone();
    p.clients.codebuild = aws_sdk_codebuild::Client::from_conf(
        aws_sdk_codebuild::config::Builder::from(&env.provider_sdk)
            .endpoint_url(codebuild.base_url())
            .build(),
    );
    p.clients.lambda = aws_sdk_lambda::Client::from_conf(
        aws_sdk_lambda::config::Builder::from(&env.provider_sdk)
            .endpoint_url(lambda.base_url())
            .build(),
    );
    p.settings.function_name = Some(FUNCTION.into());
    p
}

fn body(req: &Request) -> Value {
    serde_json::from_slice(&req.body).expect("JSON body")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn start_builds(seen: &Seen) -> Vec<Value> {
    seen.lock()
        .expect("lock")
        .iter()
        .filter(|r| {
            r.header("x-amz-target")
                .is_some_and(|t| t.ends_with("StartBuild"))
        })
        .map(body)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_hands_the_request_on_and_fails_only_when_time_is_up() {
    let env = setup().await;
    env.create_resources(&[]).await;
    let (codebuild, starts) = codebuild_double(true);
    let (lambda, invokes) = lambda_double();
    let provider = provider_with(&env, &codebuild, &lambda);
    let props = trigger_properties("prod", &[]);
    assert_eq!(props["ServiceTimeout"], "3000");
    let event = cfn_event(&env, "Create", "q-1", TRIGGER, &props, None, None);
    let before = now();
    // Little time left in this invocation: the first refusal hands the request on.
    let event = env.play(&event).await;
    let out = provider
        .handle(event.clone(), Instant::now() + Duration::from_secs(1))
        .await
        .expect("handled");
    let after = now();
    assert_eq!(out["action"], "requeued", "{out}");
    assert!(
        env.recorder.puts().is_empty(),
        "no answer while time is left"
    );

    let starts_now = start_builds(&starts);
    assert_eq!(starts_now.len(), 1);
    // 3000 s of ServiceTimeout less 60 s kept to answer: 49 whole minutes (48 if a second
    // boundary passed in between).
    let queued = starts_now[0]["queuedTimeoutInMinutesOverride"].as_u64();
    assert!(matches!(queued, Some(48 | 49)), "{:?}", starts_now[0]);

    let invoked = invokes.lock().expect("lock").clone();
    assert_eq!(invoked.len(), 1);
    assert_eq!(
        invoked[0].path,
        format!("/2015-03-31/functions/{FUNCTION}/invocations")
    );
    assert_eq!(invoked[0].header("x-amz-invocation-type"), Some("Event"));
    let next = body(&invoked[0]);
    for key in [
        "RequestType",
        "ResponseURL",
        "StackId",
        "RequestId",
        "LogicalResourceId",
        "ResourceType",
        "ResourceProperties",
    ] {
        assert_eq!(next[key], event[key], "{key} is handed on unchanged");
    }
    assert_eq!(next["CibQueueRetry"]["attempt"], 1);
    let first_seen = next["CibQueueRetry"]["firstSeen"].as_u64().unwrap_or(0);
    assert!((before..=after).contains(&first_seen), "{next}");

    // The handed-on request, later: four minutes before the ServiceTimeout (less than
    // CodeBuild's shortest queue timeout), a refusal is final.
    let mut late = next.clone();
    late["CibQueueRetry"]["firstSeen"] = json!(now() - (3000 - 60 - 240));
    let late = env.play(&late).await;
    provider
        .handle(late, Instant::now() + Duration::from_secs(600))
        .await
        .expect("handled");
    let puts = env.recorder.puts_to("/cfn/q-1?X-Amz-Signature=x");
    assert_eq!(puts.len(), 1);
    let v = puts[0].json();
    assert_eq!(v["Status"], "FAILED");
    let reason = v["Reason"].as_str().unwrap_or_default();
    assert!(reason.contains("AccountLimitExceededException"), "{reason}");
    assert!(reason.contains("ServiceTimeout of 3000 s"), "{reason}");
    assert_eq!(
        invokes.lock().expect("lock").len(),
        1,
        "not handed on again"
    );
    let all = start_builds(&starts);
    assert_eq!(all.len(), 2);
    assert_eq!(
        all[1]["queuedTimeoutInMinutesOverride"], 5,
        "never below CodeBuild's minimum"
    );
    // CodeBuild answers a parameter mismatch to a token repeated within five minutes with
    // another parameter: a token is never reused with another queue timeout.
    assert_ne!(
        all[0]["idempotencyToken"], all[1]["idempotencyToken"],
        "{:?} / {:?}",
        all[0], all[1]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_started_on_a_later_attempt_may_queue_only_for_the_time_left() {
    let env = setup().await;
    env.create_resources(&[]).await;
    let (codebuild, starts) = codebuild_double(false);
    let (lambda, invokes) = lambda_double();
    let provider = provider_with(&env, &codebuild, &lambda);
    let props = trigger_properties("prod", &[]);
    let mut event = cfn_event(&env, "Create", "q-2", TRIGGER, &props, None, None);
    // First seen ten minutes ago: 3000 - 60 - 600 = 2340 s left, 39 minutes.
    event["CibQueueRetry"] = json!({"firstSeen": now() - 600, "attempt": 4});
    let event = env.play(&event).await;
    let out = provider
        .handle(event, Instant::now() + Duration::from_secs(600))
        .await
        .expect("handled");
    assert_eq!(out["action"], "build-started", "{out}");
    let all = start_builds(&starts);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["projectName"], PROJECT);
    let queued = all[0]["queuedTimeoutInMinutesOverride"].as_u64();
    assert!(matches!(queued, Some(38 | 39)), "{:?}", all[0]);
    assert!(invokes.lock().expect("lock").is_empty());
    assert!(env.recorder.puts().is_empty(), "the build answers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_re_invocation_answers_failed_with_the_lambda_error() {
    let env = setup().await;
    env.create_resources(&[]).await;
    let (codebuild, _starts) = codebuild_double(true);
    let refusing: Handler = Arc::new(|_req: Request| {
        Response::new(
            403,
            r#"{"Type":"User","message":"not authorized to perform: lambda:InvokeFunction"}"#,
        )
        .with_header("x-amzn-errortype", "AccessDeniedException")
        .with_header("content-type", "application/json")
    });
    let lambda = Server::start(refusing);
    let provider = provider_with(&env, &codebuild, &lambda);
    let event = cfn_event(
        &env,
        "Create",
        "q-3",
        TRIGGER,
        &trigger_properties("prod", &[]),
        None,
        None,
    );
    let event = env.play(&event).await;
    provider
        .handle(event, Instant::now() + Duration::from_secs(1))
        .await
        .expect("handled");
    let v = env.recorder.puts()[0].json();
    assert_eq!(v["Status"], "FAILED");
    let reason = v["Reason"].as_str().unwrap_or_default();
    assert!(reason.contains("re-invoking the provider"), "{reason}");
    assert!(reason.contains("lambda:InvokeFunction"), "{reason}");
}
