//! The transform handler on real macro events, called directly and through the real
//! `lambda_runtime` loop of the built function binary.

use std::path::Path;
use std::time::Duration;

use cib_testkit::{Outcome, RuntimeApi};
use cib_transform::{Config, MacroEvent, MacroResponse, handle};
use serde_json::Value;

fn event(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/events")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn call(name: &str, config: &Config) -> MacroResponse {
    let event: MacroEvent = serde_json::from_value(event(name)).expect("event shape");
    handle(&event, config).0
}

#[test]
fn success_event_answers_the_expanded_fragment_with_the_request_id() {
    let response = call("success.json", &Config::default());
    assert_eq!(response.status, "success");
    assert_eq!(response.request_id, "5f1b1a4e-8a0c-4c41-9a43-2f3f1f0d6e11");
    assert_eq!(response.error_message, None);
    let fragment = response.fragment.expect("fragment");
    let resources = fragment["Resources"].as_object().expect("resources");
    assert_eq!(resources["ApiImage"]["Type"], "Custom::ContainerImageBuild");
    // Platform came from templateParameterValues (arm64), not the Default (amd64).
    assert_eq!(
        resources["ApiImage"]["Properties"]["Platform"],
        "linux/arm64"
    );
    assert!(resources.contains_key("ContainerImageBuildProjectArm64"));
    assert!(resources.contains_key("ApiImageRepository"));
    assert!(resources.contains_key("ContainerImageBuildReplication"));
    // Ref to the image now means its ImageUri.
    assert_eq!(
        resources["ApiFunction"]["Properties"]["Code"]["ImageUri"],
        serde_json::json!({"Fn::GetAtt": ["ApiImage", "ImageUri"]})
    );
    // The default ServiceToken points at the support stack's provider.
    let token = resources["ApiImage"]["Properties"]["ServiceToken"]["Fn::Sub"]
        .as_str()
        .expect("token");
    assert!(
        token.ends_with(":function:ContainerImageBuild-Provider"),
        "{token}"
    );
}

#[test]
fn configured_provider_arn_becomes_the_service_token() {
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:custom-provider";
    let config = Config {
        provider_arn: Some(arn.to_owned()),
    };
    let response = call("success.json", &config);
    let fragment = response.fragment.expect("fragment");
    assert_eq!(
        fragment["Resources"]["ApiImage"]["Properties"]["ServiceToken"],
        arn
    );
    assert_eq!(
        fragment["Resources"]["ContainerImageBuildReplication"]["Properties"]["ServiceToken"],
        arn
    );
}

#[test]
fn failure_event_lists_every_error_with_id_and_path() {
    let response = call("failure.json", &Config::default());
    assert_eq!(response.status, "failure");
    assert_eq!(response.request_id, "0d6c7a52-3f55-4d9e-b1a3-7c3c9f0a2b44");
    assert_eq!(response.fragment, None);
    let message = response.error_message.expect("message");
    for expected in [
        "[CIB013] Resources.ApiImage.Properties.Source.Directory",
        "[CIB010] Resources.WebImage.Properties.Platfrom",
        "did you mean `Platform`?",
    ] {
        assert!(
            message.contains(expected),
            "missing {expected:?} in {message}"
        );
    }
}

#[test]
fn answer_serializes_with_the_macro_contract_field_names() {
    let response = call("failure.json", &Config::default());
    let json = serde_json::to_value(&response).expect("json");
    let keys: Vec<&str> = json
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["requestId", "status", "errorMessage"]);
}

fn run_through_runtime(event: &Value, extra_env: &[(String, String)]) -> Value {
    let api = RuntimeApi::start();
    let binary = Path::new(env!("CARGO_BIN_EXE_bootstrap"));
    match api.run_once(binary, extra_env, event, Duration::from_secs(30)) {
        Ok(Outcome::Response(body)) => serde_json::from_slice(&body).expect("answer is JSON"),
        Ok(Outcome::Error(body)) => panic!("handler failed: {}", String::from_utf8_lossy(&body)),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn lambda_runtime_loop_answers_success_and_failure() {
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:from-env";
    let env = [("PROVIDER_ARN".to_owned(), arn.to_owned())];
    let answer = run_through_runtime(&event("success.json"), &env);
    assert_eq!(answer["status"], "success");
    assert_eq!(answer["requestId"], "5f1b1a4e-8a0c-4c41-9a43-2f3f1f0d6e11");
    assert_eq!(
        answer["fragment"]["Resources"]["ApiImage"]["Properties"]["ServiceToken"],
        arn
    );

    let answer = run_through_runtime(&event("failure.json"), &[]);
    assert_eq!(answer["status"], "failure");
    assert!(
        answer["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("CIB013")),
        "{answer}"
    );
}

#[test]
fn a_failed_policy_rule_turns_the_answer_into_a_failure_with_its_findings() {
    let event: MacroEvent = serde_json::from_value(event("success.json")).expect("event shape");
    let (plain, _) = handle(&event, &Config::default());
    assert_eq!(plain.status, "success", "{:?}", plain.error_message);
    // The same fragment, validated with one more rule that its CodeBuild project breaks.
    let rule = cib_policy::RuleFile {
        name: "no-large-builds.guard".into(),
        text: "rule no_large_builds {\n  Resources.*[ Type == 'AWS::CodeBuild::Project' ].Properties.Environment.ComputeType != 'BUILD_GENERAL1_LARGE'\n  <<\n    Violation: large builds cost too much.\n    Fix: set ComputeType.\n  >>\n}\n".into(),
        origin: cib_policy::Origin::User,
    };
    let (response, _) = cib_transform::handle_with_rules(&event, &Config::default(), &[rule]);
    assert_eq!(response.status, "failure");
    assert_eq!(response.fragment, None);
    let message = response.error_message.expect("message");
    assert!(
        message.contains(
            "[CIB051 no_large_builds] Resources.ContainerImageBuildProjectArm64.Properties.Environment.ComputeType: large builds cost too much."
        ),
        "{message}"
    );
}

#[test]
fn an_image_loop_before_language_extensions_is_a_failure_that_says_to_list_it_first() {
    let response = call("loop-before-language-extensions.json", &Config::default());
    assert_eq!(response.status, "failure");
    assert_eq!(response.fragment, None);
    let message = response.error_message.expect("message");
    assert!(
        message.contains("CIB063")
            && message.contains("Fn::ForEach::Images")
            && message.contains("AWS::LanguageExtensions before ContainerImageBuild"),
        "{message}"
    );
}
