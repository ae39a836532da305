//! Build log groups: one per template, named by CloudFormation, with a retention; an image
//! whose `BuildLogs` differ gets its own; the projects, triggers and role point at them.

use cib_engine::checks::ids;
use cib_engine::template::parse_yaml;
use cib_engine::{ExpandOptions, expand};
use serde_json::{Value, json};

const TEMPLATE: &str = r#"
Parameters:
  LogKey: {Type: String}
Conditions:
  Never: !Equals ["a", "b"]
Resources:
  Plain:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {S3Bucket: b, S3Key: plain.zip}
  Thirty:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {S3Bucket: b, S3Key: thirty.zip}
      BuildLogs: {RetentionInDays: 30}
  Longer:
    Type: Custom::ContainerImageBuild
    Condition: Never
    Properties:
      Source: {S3Bucket: b, S3Key: longer.zip}
      BuildLogs: {RetentionInDays: 365}
  Encrypted:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {S3Bucket: b, S3Key: encrypted.zip}
      Platform: linux/arm64
      BuildLogs: {KmsKeyId: !Ref LogKey}
  Named:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {S3Bucket: b, S3Key: named.zip}
      BuildLogs: {LogGroupName: /teams/named}
"#;

fn expanded() -> Value {
    let template = parse_yaml(TEMPLATE).expect("parses");
    let outcome = expand(
        &template,
        &ExpandOptions {
            region: Some("us-east-1".into()),
            ..ExpandOptions::default()
        },
    );
    outcome
        .template
        .unwrap_or_else(|| panic!("does not expand: {:?}", outcome.findings))
}

#[test]
fn no_generated_log_group_has_a_name_and_each_has_a_retention() {
    let t = expanded();
    let groups: Vec<(&String, &Value)> = t["Resources"]
        .as_object()
        .expect("Resources")
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Logs::LogGroup")
        .collect();
    let names: Vec<&str> = groups.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        names,
        [
            "LongerLogGroup",
            "EncryptedLogGroup",
            "ContainerImageBuildLogGroup"
        ]
    );
    for (id, group) in groups {
        assert!(
            group["Properties"].get("LogGroupName").is_none(),
            "{id} has a fixed name"
        );
        assert!(group["Properties"]["RetentionInDays"].is_i64(), "{id}");
        assert_eq!(group["DeletionPolicy"], "Retain", "{id}");
        assert_eq!(group["UpdateReplacePolicy"], "Retain", "{id}");
    }
    let r = &t["Resources"];
    assert_eq!(
        r["ContainerImageBuildLogGroup"]["Properties"],
        json!({"RetentionInDays": 30})
    );
    assert_eq!(
        r["LongerLogGroup"]["Properties"],
        json!({"RetentionInDays": 365})
    );
    assert_eq!(r["LongerLogGroup"]["Condition"], "Never");
    assert_eq!(
        r["EncryptedLogGroup"]["Properties"],
        json!({"RetentionInDays": 30, "KmsKeyId": {"Ref": "LogKey"}})
    );
}

#[test]
fn projects_and_triggers_point_at_their_groups() {
    let t = expanded();
    let r = &t["Resources"];
    for project in [
        "ContainerImageBuildProjectAmd64",
        "ContainerImageBuildProjectArm64",
    ] {
        assert_eq!(
            r[project]["Properties"]["LogsConfig"],
            json!({"CloudWatchLogs": {"Status": "ENABLED", "GroupName": {"Ref": "ContainerImageBuildLogGroup"}}}),
            "{project}"
        );
    }
    let group = |id: &str| r[id]["Properties"].get("LogGroupName").cloned();
    assert_eq!(group("Plain"), None);
    assert_eq!(group("Thirty"), None);
    assert_eq!(group("Longer"), Some(json!({"Ref": "LongerLogGroup"})));
    assert_eq!(
        group("Encrypted"),
        Some(json!({"Ref": "EncryptedLogGroup"}))
    );
    assert_eq!(group("Named"), Some(json!("/teams/named")));
}

#[test]
fn the_role_may_write_to_every_group_and_no_other() {
    let t = expanded();
    let statements = t["Resources"]["ContainerImageBuildRole"]["Properties"]["Policies"][0]
        ["PolicyDocument"]["Statement"]
        .as_array()
        .expect("statements");
    let logs = statements
        .iter()
        .find(|s| s["Sid"] == "WriteBuildLogs")
        .expect("WriteBuildLogs");
    let text = logs["Resource"].to_string();
    for group in [
        r#"{"Ref":"ContainerImageBuildLogGroup"}"#,
        r#"{"Ref":"LongerLogGroup"}"#,
        r#"{"Ref":"EncryptedLogGroup"}"#,
        r#""/teams/named""#,
    ] {
        assert!(text.contains(group), "{group} missing from {text}");
    }
    assert!(!text.contains("/container-image-build/"), "{text}");
    // The conditional image's group is only mentioned when it exists.
    assert!(text.contains(r#"{"Fn::If":["Never""#), "{text}");
}

#[test]
fn a_named_group_with_settings_is_refused() {
    let template = parse_yaml(
        "Resources:\n  Api:\n    Type: Custom::ContainerImageBuild\n    Properties:\n      Source: {S3Bucket: b, S3Key: k}\n      BuildLogs: {LogGroupName: /x, RetentionInDays: 30, KmsKeyId: arn:aws:kms:us-east-1:1:key/k}\n",
    )
    .expect("parses");
    let outcome = expand(&template, &ExpandOptions::default());
    let finding = outcome
        .findings
        .iter()
        .find(|f| f.id == ids::NAMED_LOG_GROUP_WITH_SETTINGS)
        .expect("CIB018");
    assert_eq!(
        finding.path,
        "Resources.Api.Properties.BuildLogs.LogGroupName"
    );
    assert!(
        finding.message.contains("RetentionInDays and KmsKeyId"),
        "{}",
        finding.message
    );
}
