//! A lookup error while checking whether the tag exists fails the resource with the AWS
//! error; it never starts a build (a rebuild would push the tag again, to a new digest).
//!
//! moto answers DescribeImages for any repository, so ECR is a local endpoint on
//! 127.0.0.1 here answering AccessDeniedException; CodeBuild stays moto.

mod common;

use std::sync::Arc;

use cib_testkit::http::{Handler, Request, Response, Server};
use common::*;

const TRIGGER: &str = "Custom::ContainerImageBuild";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lookup_error_fails_the_resource_instead_of_building() {
    let env = setup().await;
    env.create_resources(&[]).await;
    let denied: Handler = Arc::new(|_req: Request| {
        Response::new(
            400,
            r#"{"__type":"AccessDeniedException","message":"User is not authorized to perform: ecr:DescribeImages"}"#,
        )
        .with_header("content-type", "application/x-amz-json-1.1")
    });
    let ecr = Server::start(denied);
    let mut provider = env.provider.clone();
    provider.clients.ecr = aws_sdk_ecr::Client::from_conf(
        aws_sdk_ecr::config::Builder::from(&env.provider_sdk)
            .endpoint_url(ecr.base_url())
            .build(),
    );
    let event = cfn_event(
        &env,
        "Create",
        "l-1",
        TRIGGER,
        &trigger_properties("prod", &[]),
        None,
        None,
    );
    let event = env.play(&event).await;
    provider
        .handle(
            event,
            std::time::Instant::now() + std::time::Duration::from_secs(60),
        )
        .await
        .expect("handled");
    assert!(env.builds().await.is_empty(), "no build on a lookup error");
    let v = env.recorder.puts()[0].json();
    assert_eq!(v["Status"], "FAILED");
    let reason = v["Reason"].as_str().unwrap_or_default();
    assert!(reason.contains("cannot tell whether"), "{reason}");
    assert!(reason.contains("AccessDeniedException"), "{reason}");
    assert!(reason.contains("region us-east-1"), "{reason}");
}
