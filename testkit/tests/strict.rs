//! The strict layer in front of a real moto server: one test per limit, each showing the
//! refusal AWS would give and a control at the limit that moto answers.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use cib_testkit::{MotoServer, ResponseRecorder};
use serde_json::{Value, json};

/// Sends one raw HTTP/1.1 request (with `Connection: close`) through `moto`'s endpoint (the
/// proxy) and returns the whole answer as text.
fn exchange(moto: &MotoServer, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", moto.port())).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    stream.write_all(request.as_bytes()).expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    String::from_utf8_lossy(&raw).into_owned()
}

/// One JSON-protocol call through `moto`'s endpoint (the proxy): status and parsed body.
fn call(moto: &MotoServer, service: &str, target: &str, body: &Value) -> (u16, Value) {
    let body = body.to_string();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: {target}\r\n\
         Content-Type: application/x-amz-json-1.1\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=testing/20261202/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let text = exchange(moto, &request);
    let status = text
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text}"));
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn refused(moto: &MotoServer, answer: (u16, Value), exception: &str) {
    assert_eq!(answer.0, 400, "{:?}", answer.1);
    assert_eq!(answer.1["__type"], exception, "{:?}", answer.1);
    assert!(answer.1["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(
        moto.refusals().iter().any(|r| r.exception == exception),
        "{:?}",
        moto.refusals()
    );
}

fn passed(answer: (u16, Value)) -> Value {
    assert_eq!(answer.0, 200, "{:?}", answer.1);
    answer.1
}

const CODEBUILD: &str = "CodeBuild_20161006";
const ECR: &str = "AmazonEC2ContainerRegistry_V20150921";

fn codebuild(moto: &MotoServer, op: &str, body: Value) -> (u16, Value) {
    call(moto, "codebuild", &format!("{CODEBUILD}.{op}"), &body)
}

fn ecr(moto: &MotoServer, op: &str, body: Value) -> (u16, Value) {
    call(moto, "ecr", &format!("{ECR}.{op}"), &body)
}

fn project(name: &str, value_len: usize) -> Value {
    json!({
        "name": name,
        "source": {"type": "S3", "location": "bucket/key.zip"},
        "artifacts": {"type": "NO_ARTIFACTS"},
        "environment": {"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                        "computeType": "BUILD_GENERAL1_SMALL",
                        "environmentVariables": [{"name": "V", "value": "v".repeat(value_len)}]},
        "serviceRole": "arn:aws:iam::123456789012:role/cib-build"
    })
}

#[test]
fn codebuild_environment_values_over_4096_characters_are_refused() {
    let moto = MotoServer::start();
    refused(
        &moto,
        codebuild(&moto, "CreateProject", project("cib-project", 4097)),
        "InvalidInputException",
    );
    passed(codebuild(
        &moto,
        "CreateProject",
        project("cib-project", 4096),
    ));
    let over = json!({"projectName": "cib-project", "environmentVariablesOverride": [
        {"name": "CIB_INLINE_DOCKERFILE_GZ", "value": "d".repeat(4097), "type": "PLAINTEXT"}]});
    refused(
        &moto,
        codebuild(&moto, "StartBuild", over),
        "InvalidInputException",
    );
    let at = json!({"projectName": "cib-project", "environmentVariablesOverride": [
        {"name": "CIB_INLINE_DOCKERFILE_GZ", "value": "d".repeat(4096), "type": "PLAINTEXT"}]});
    let build = passed(codebuild(&moto, "StartBuild", at));
    assert!(build["build"]["id"].is_string(), "{build}");
}

#[test]
fn codebuild_buildspec_and_timeouts_are_held_to_their_limits() {
    let moto = MotoServer::start();
    passed(codebuild(&moto, "CreateProject", project("cib-project", 1)));
    let start = |extra: Value| {
        let mut body = json!({"projectName": "cib-project"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        codebuild(&moto, "StartBuild", body)
    };
    refused(
        &moto,
        start(json!({"buildspecOverride": "b".repeat(25_601)})),
        "InvalidInputException",
    );
    passed(start(json!({"buildspecOverride": "b".repeat(25_600)})));
    refused(
        &moto,
        start(json!({"timeoutInMinutesOverride": 2161})),
        "ValidationException",
    );
    refused(
        &moto,
        start(json!({"timeoutInMinutesOverride": 4})),
        "ValidationException",
    );
    passed(start(json!({"timeoutInMinutesOverride": 2160})));
    passed(start(json!({"timeoutInMinutesOverride": 5})));
    refused(
        &moto,
        start(json!({"queuedTimeoutInMinutesOverride": 481})),
        "ValidationException",
    );
    refused(
        &moto,
        start(json!({"queuedTimeoutInMinutesOverride": 4})),
        "ValidationException",
    );
    passed(start(json!({"queuedTimeoutInMinutesOverride": 480})));
}

fn manifest() -> String {
    json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023,
                   "digest": "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7"},
        "layers": []
    })
    .to_string()
}

#[test]
fn ecr_image_tags_over_128_characters_or_with_other_characters_are_refused() {
    let moto = MotoServer::start();
    passed(ecr(
        &moto,
        "CreateRepository",
        json!({"repositoryName": "cib/api"}),
    ));
    let put = |tag: &str| {
        ecr(
            &moto,
            "PutImage",
            json!({"repositoryName": "cib/api", "imageManifest": manifest(), "imageTag": tag}),
        )
    };
    let longest = format!("v{}", "1".repeat(127));
    refused(
        &moto,
        put(&format!("{longest}2")),
        "InvalidParameterException",
    );
    refused(&moto, put("-starts-with-dash"), "InvalidParameterException");
    refused(&moto, put("has:colon"), "InvalidParameterException");
    passed(put(&longest));
    let lookup = json!({"repositoryName": "cib/api", "imageIds": [{"imageTag": longest}]});
    let found = passed(ecr(&moto, "DescribeImages", lookup.clone()));
    assert_eq!(
        found["imageDetails"].as_array().map(Vec::len),
        Some(1),
        "{found}"
    );
    passed(ecr(&moto, "BatchGetImage", lookup));
    let bad =
        json!({"repositoryName": "cib/api", "imageIds": [{"imageTag": format!("{longest}2")}]});
    refused(
        &moto,
        ecr(&moto, "DescribeImages", bad.clone()),
        "InvalidParameterException",
    );
    refused(
        &moto,
        ecr(&moto, "BatchGetImage", bad),
        "InvalidParameterException",
    );
}

#[test]
fn ecr_scan_findings_and_image_deletes_are_held_to_their_limits() {
    let moto = MotoServer::start();
    passed(ecr(
        &moto,
        "CreateRepository",
        json!({"repositoryName": "cib/api"}),
    ));
    passed(ecr(
        &moto,
        "PutImage",
        json!({"repositoryName": "cib/api", "imageManifest": manifest(), "imageTag": "t1"}),
    ));
    passed(ecr(
        &moto,
        "StartImageScan",
        json!({"repositoryName": "cib/api", "imageId": {"imageTag": "t1"}}),
    ));
    let findings = |extra: Value| {
        let mut body = json!({"repositoryName": "cib/api", "imageId": {"imageTag": "t1"}});
        if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
            b.extend(e);
        }
        ecr(&moto, "DescribeImageScanFindings", body)
    };
    passed(findings(json!({})));
    passed(findings(json!({"maxResults": 1000})));
    refused(
        &moto,
        findings(json!({"maxResults": 1001})),
        "InvalidParameterException",
    );
    refused(
        &moto,
        findings(json!({"maxResults": 0})),
        "InvalidParameterException",
    );
    refused(
        &moto,
        ecr(
            &moto,
            "DescribeImageScanFindings",
            json!({"repositoryName": "cib/api", "imageId": {}}),
        ),
        "InvalidParameterException",
    );
    let ids = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| json!({"imageTag": format!("t{i}")}))
            .collect()
    };
    refused(
        &moto,
        ecr(
            &moto,
            "BatchDeleteImage",
            json!({"repositoryName": "cib/api", "imageIds": ids(101)}),
        ),
        "InvalidParameterException",
    );
    refused(
        &moto,
        ecr(
            &moto,
            "BatchDeleteImage",
            json!({"repositoryName": "cib/api", "imageIds": []}),
        ),
        "InvalidParameterException",
    );
    passed(ecr(
        &moto,
        "BatchDeleteImage",
        json!({"repositoryName": "cib/api", "imageIds": [{"imageTag": "t1"}]}),
    ));
}

#[test]
fn ecr_repository_tags_are_held_to_key_value_character_and_count_limits() {
    let moto = MotoServer::start();
    let created = passed(ecr(
        &moto,
        "CreateRepository",
        json!({"repositoryName": "cib/api"}),
    ));
    let arn = created["repository"]["repositoryArn"]
        .as_str()
        .expect("arn")
        .to_string();
    let tag = |key: String, value: String| {
        ecr(
            &moto,
            "TagResource",
            json!({"resourceArn": arn, "tags": [{"Key": key, "Value": value}]}),
        )
    };
    refused(
        &moto,
        tag("k".repeat(129), "v".into()),
        "InvalidTagParameterException",
    );
    refused(
        &moto,
        tag("k".into(), "v".repeat(257)),
        "InvalidTagParameterException",
    );
    refused(
        &moto,
        tag("k".into(), "a,b".into()),
        "InvalidTagParameterException",
    );
    passed(tag("k".repeat(128), "v".repeat(256)));
    // 49 more make 50 on the repository; one after that is one too many.
    let tags: Vec<Value> = (0..49)
        .map(|i| json!({"Key": format!("t{i}"), "Value": "v"}))
        .collect();
    passed(ecr(
        &moto,
        "TagResource",
        json!({"resourceArn": arn, "tags": tags}),
    ));
    refused(
        &moto,
        tag("one-more".into(), "v".into()),
        "TooManyTagsException",
    );
    passed(tag("t0".into(), "replaced".into()));
}

fn rule(regions: &[String], filters: usize) -> Value {
    json!({
        "destinations": regions.iter().map(|r| json!({"region": r, "registryId": "123456789012"})).collect::<Vec<_>>(),
        "repositoryFilters": (0..filters).map(|i| json!({"filter": format!("cib/r{i}"), "filterType": "PREFIX_MATCH"})).collect::<Vec<_>>(),
    })
}

fn replicate(moto: &MotoServer, rules: Vec<Value>) -> (u16, Value) {
    ecr(
        moto,
        "PutReplicationConfiguration",
        json!({"replicationConfiguration": {"rules": rules}}),
    )
}

#[test]
fn ecr_replication_configurations_are_held_to_rule_destination_and_filter_limits() {
    let moto = MotoServer::start();
    let regions: Vec<String> = (0..26).map(|i| format!("eu-test-{i}")).collect();
    let west = vec!["eu-west-1".to_string()];
    let eleven: Vec<Value> = (0..11).map(|_| rule(&west, 1)).collect();
    refused(&moto, replicate(&moto, eleven), "ValidationException");
    refused(
        &moto,
        replicate(&moto, vec![rule(&regions, 1)]),
        "InvalidParameterException",
    );
    refused(
        &moto,
        replicate(&moto, vec![rule(&west, 101)]),
        "ValidationException",
    );
    let mut bad_filter = rule(&west, 0);
    bad_filter["repositoryFilters"] =
        json!([{"filter": "Cib/Upper", "filterType": "PREFIX_MATCH"}]);
    refused(
        &moto,
        replicate(&moto, vec![bad_filter]),
        "ValidationException",
    );
    let home = vec!["us-east-1".to_string()];
    refused(
        &moto,
        replicate(&moto, vec![rule(&home, 1)]),
        "InvalidParameterException",
    );
    // moto takes one rule only; 25 destinations and 100 filters are within AWS's limits.
    passed(replicate(&moto, vec![rule(&regions[..25], 100)]));
}

#[test]
fn ssm_standard_values_over_4096_characters_and_bad_names_are_refused() {
    let moto = MotoServer::start();
    let put = |name: &str, len: usize| {
        call(
            &moto,
            "ssm",
            "AmazonSSM.PutParameter",
            &json!({"Name": name, "Value": "v".repeat(len), "Type": "SecureString", "Overwrite": true}),
        )
    };
    let name = "/ContainerImageBuild/responses/11111111-2222/abcdef";
    refused(&moto, put(name, 4097), "ValidationException");
    passed(put(name, 4096));
    refused(&moto, put("/aws/reserved", 1), "ValidationException");
    refused(&moto, put("/bad name", 1), "ValidationException");
    let deep = format!("/{}", vec!["l"; 16].join("/"));
    refused(&moto, put(&deep, 1), "HierarchyLevelLimitExceededException");
}

#[test]
fn everything_else_is_forwarded_unchanged() {
    let moto = MotoServer::start();
    // A protocol the layer does not inspect (a moto API call), and a JSON call to a service
    // it has no limits for.
    let mut stream = TcpStream::connect(("127.0.0.1", moto.port())).expect("connect");
    stream
        .write_all(b"GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).expect("read");
    assert!(
        reply.starts_with("HTTP/1.1 200"),
        "{}",
        &reply[..reply.len().min(200)]
    );
    let (status, _) = call(&moto, "logs", "Logs_20140328.DescribeLogGroups", &json!({}));
    assert_eq!(status, 200);
    assert!(moto.refusals().is_empty(), "{:?}", moto.refusals());
}

#[test]
fn the_recorder_refuses_response_bodies_over_4096_bytes() {
    let recorder = ResponseRecorder::start();
    let put = |body: String| {
        let request = format!(
            "PUT /cfn/r HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let url = recorder.url("");
        let addr = url.trim_start_matches("http://").to_string();
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.write_all(request.as_bytes()).expect("write");
        let mut reply = String::new();
        stream.read_to_string(&mut reply).expect("read");
        reply
    };
    assert!(put("x".repeat(4096)).starts_with("HTTP/1.1 200"));
    assert!(put("x".repeat(4097)).starts_with("HTTP/1.1 400"));
    assert_eq!(recorder.puts().len(), 1);
    assert_eq!(recorder.puts()[0].body.len(), 4096);
    let refused = recorder.take_refused();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].body.len(), 4097);
}

#[test]
fn a_recorder_that_refused_an_answer_fails_the_test_when_dropped() {
    let outcome = std::panic::catch_unwind(|| {
        let recorder = ResponseRecorder::start();
        let addr = recorder.url("").trim_start_matches("http://").to_string();
        let body = "y".repeat(5000);
        let mut stream = TcpStream::connect(addr).expect("connect");
        let request = format!(
            "PUT /cfn/r HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).expect("write");
        let mut reply = String::new();
        stream.read_to_string(&mut reply).expect("read");
        drop(recorder);
    });
    let message = outcome.expect_err("dropping the recorder panics");
    let text = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(text.contains("4096-byte limit"), "{text}");
}

/// One raw S3 request through the proxy, signed (in name) with `key`: its status.
fn s3_status(moto: &MotoServer, key: &str, method: &str, path: &str) -> u16 {
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential={key}/20261208/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let text = exchange(moto, &request);
    text.get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text}"))
}

#[test]
fn a_missing_object_is_403_to_a_reader_that_may_not_list_the_bucket_and_404_otherwise() {
    let moto = MotoServer::start();
    assert_eq!(s3_status(&moto, "testing", "PUT", "/artifacts"), 200);
    let read = json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::artifacts/*"});
    let list =
        json!({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::artifacts"});
    moto.enforce(
        "AKIAREADONLY",
        "Reader",
        vec![json!({"Statement": [read.clone()]})],
    );
    moto.enforce(
        "AKIAREADLIST",
        "Lister",
        vec![json!({"Statement": [read, list]})],
    );
    assert_eq!(
        s3_status(&moto, "AKIAREADONLY", "HEAD", "/artifacts/missing.tar"),
        403
    );
    assert_eq!(
        s3_status(&moto, "AKIAREADONLY", "GET", "/artifacts/missing.tar"),
        403
    );
    assert_eq!(
        s3_status(&moto, "AKIAREADLIST", "HEAD", "/artifacts/missing.tar"),
        404
    );
    assert!(moto.take_denied().is_empty(), "S3's answer, not a denial");
}
