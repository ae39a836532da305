//! What `cib expand` writes means to CloudFormation what the input meant: YAML 1.1 scalars in
//! YAML and JSON output, shape-deciding properties read the same way, and other
//! pre-processors' tags kept in YAML (and refused in JSON).

mod common;

use std::io::Write;
use std::process::{Output, Stdio};

use common::{cib, describe};
use serde_json::{Value, json};

/// Runs `cib expand - --region us-east-1 ARGS` with `template` on standard input.
fn expand_stdin(template: &str, args: &[&str]) -> Output {
    let mut child = cib()
        .args(["expand", "-", "--region", common::REGION])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run cib");
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(template.as_bytes())
            .expect("write template");
    }
    child.wait_with_output().expect("wait for cib")
}

const YAML_1_1: &str = "\
Parameters:
  Enabled:
    Type: String
    AllowedValues: [Yes, No]
    Default: Yes
Conditions:
  IsOn: !Equals [!Ref Enabled, Yes]
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      Tags:
        - {Key: a, Value: on}
        - {Key: b, Value: OFF}
        - {Key: c, Value: 0755}
        - {Key: d, Value: 2010-09-09}
        - {Key: e, Value: y}
        - {Key: f, Value: 1:30}
";

#[test]
fn yaml_output_keeps_plain_scalars_as_written() {
    let output = expand_stdin(YAML_1_1, &[]);
    assert!(output.status.success(), "{}", describe(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    let line = "    AllowedValues:\n      - Yes\n      - No\n    Default: Yes\n";
    assert!(text.contains(line), "{line:?} missing in:\n{text}");
    assert!(
        text.contains("      - Ref: Enabled\n      - Yes\n"),
        "{text}"
    );
    for value in ["on", "OFF", "0755", "2010-09-09", "y", "1:30"] {
        assert!(
            text.contains(&format!("Value: {value}\n")),
            "plain {value} missing in:\n{text}"
        );
    }
}

#[test]
fn json_output_carries_what_cloudformation_reads() {
    let output = expand_stdin(YAML_1_1, &["--format", "json"]);
    assert!(output.status.success(), "{}", describe(&output));
    let value: Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    assert_eq!(
        value["Parameters"]["Enabled"]["AllowedValues"],
        json!([true, false])
    );
    assert_eq!(value["Parameters"]["Enabled"]["Default"], json!(true));
    assert_eq!(
        value["Conditions"]["IsOn"],
        json!({"Fn::Equals": [{"Ref": "Enabled"}, true]})
    );
    let tags: Vec<Value> = value["Resources"]["Topic"]["Properties"]["Tags"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|tag| tag["Value"].clone())
        .collect();
    assert_eq!(
        tags,
        [
            json!(true),
            json!(false),
            json!(493),
            json!("2010-09-09"),
            json!("y"),
            json!(90)
        ]
    );
}

#[test]
fn shape_deciding_properties_read_yaml_1_1_booleans() {
    let template = "\
Resources:
  Img:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {S3Bucket: b, S3Key: k.zip}
      CacheDisabled: yes
  Server:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {S3Bucket: b, S3Key: s.zip}
      DockerServer: On
";
    let output = expand_stdin(template, &["--format", "json"]);
    assert!(output.status.success(), "{}", describe(&output));
    let value: Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    let img = &value["Resources"]["Img"]["Properties"];
    assert_eq!(img["CacheDisabled"], json!("true"), "{img}");
    let text = value.to_string();
    assert!(text.contains("CIB_DOCKER_SERVER"), "{text}");
    let projects: Vec<&String> = value["Resources"]
        .as_object()
        .map(|r| {
            r.keys()
                .filter(|k| k.starts_with("ContainerImageBuildProject"))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        projects.len(),
        2,
        "a docker-server project and a plain one: {projects:?}"
    );
}

const RAIN: &str = "\
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: arn:aws:iam::123456789012:role/r
      Runtime: nodejs20.x
      Handler: index.handler
      Code:
        ZipFile: !Rain::Embed src/handler.js
";

#[test]
fn other_tags_are_kept_in_yaml_with_a_warning_and_refused_in_json() {
    let output = expand_stdin(RAIN, &[]);
    assert!(output.status.success(), "{}", describe(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("ZipFile: !Rain::Embed src/handler.js\n"),
        "{text}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("CIB060")
            && stderr.contains("!Rain::Embed")
            && stderr.contains("Resources.Fn.Properties.Code.ZipFile"),
        "{stderr}"
    );

    let output = expand_stdin(RAIN, &["--format", "json"]);
    assert!(!output.status.success(), "{}", describe(&output));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("!Rain::Embed") && stderr.contains("JSON"),
        "{stderr}"
    );

    let inside = "\
Resources:
  Img:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {S3Bucket: b, S3Key: !Rain::S3Key ctx}
";
    let output = expand_stdin(inside, &[]);
    assert!(!output.status.success(), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("CIB061"));
}
