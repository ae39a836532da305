//! What one template expands to: resources per image and per template, carried-over
//! attributes, shared projects, conditional images and the Transform entry.

use cib_engine::{ExpandOptions, expand, template};
use serde_json::{Value, json};

fn expand_yaml(text: &str) -> Value {
    let (value, _) = template::parse(text.as_bytes()).expect("test template parses");
    let options = ExpandOptions {
        region: Some("us-east-1".into()),
        ..ExpandOptions::default()
    };
    let outcome = expand(&value, &options);
    match outcome.template {
        Some(t) => t,
        None => panic!("expansion failed: {:?}", outcome.findings),
    }
}

fn ids(template: &Value) -> Vec<String> {
    template["Resources"]
        .as_object()
        .expect("resources")
        .keys()
        .cloned()
        .collect()
}

const CONDITIONAL: &str = r#"
AWSTemplateFormatVersion: "2010-09-09"
Transform: [AWS::Serverless-2016-10-31, ContainerImageBuild]
Parameters:
  WithWorker: {Type: String, Default: "true"}
Conditions:
  Worker: !Equals [!Ref WithWorker, "true"]
Resources:
  Queue:
    Type: AWS::SQS::Queue
  Api:
    Type: Custom::ContainerImageBuild
    DependsOn: Queue
    DeletionPolicy: Delete
    UpdateReplacePolicy: Delete
    Metadata: {Owner: team-a}
    Properties:
      Source: {S3Bucket: b, S3Key: api.zip}
      ReplicaRegions: [us-west-2]
  Worker:
    Type: Custom::ContainerImageBuild
    Condition: Worker
    Properties:
      Source: {S3Bucket: b, S3Key: worker.zip}
      ReplicaRegions: [us-west-2]
"#;

#[test]
fn each_image_adds_two_resources_and_the_template_four() {
    let t = expand_yaml(CONDITIONAL);
    assert_eq!(
        ids(&t),
        [
            "Queue",
            "Api",
            "ApiRepository",
            "Worker",
            "WorkerRepository",
            "ContainerImageBuildCache",
            "ContainerImageBuildRole",
            "ContainerImageBuildLogGroup",
            "ContainerImageBuildProjectAmd64",
            "ContainerImageBuildReplication"
        ]
    );
}

#[test]
fn resource_attributes_carry_over_to_what_the_image_expands_to() {
    let t = expand_yaml(CONDITIONAL);
    let r = &t["Resources"];
    assert_eq!(
        r["Api"]["DependsOn"],
        json!(["Queue", "ContainerImageBuildReplication"])
    );
    assert_eq!(r["Api"]["DeletionPolicy"], "Delete");
    assert_eq!(r["Api"]["UpdateReplacePolicy"], "Delete");
    assert_eq!(r["Api"]["Metadata"], json!({"Owner": "team-a"}));
    assert_eq!(r["ApiRepository"]["DeletionPolicy"], "Delete");
    assert_eq!(r["ApiRepository"]["UpdateReplacePolicy"], "Delete");
    assert_eq!(r["ApiRepository"]["DependsOn"], "Queue");
    assert_eq!(r["Worker"]["Condition"], "Worker");
    assert_eq!(r["WorkerRepository"]["Condition"], "Worker");
    // Without a policy of the user's, repositories are retained.
    assert_eq!(r["WorkerRepository"]["DeletionPolicy"], "Retain");
    assert_eq!(r["WorkerRepository"]["UpdateReplacePolicy"], "Retain");
}

#[test]
fn template_wide_resources_mention_a_conditional_image_only_when_it_exists() {
    let t = expand_yaml(CONDITIONAL);
    let r = &t["Resources"];
    let filters =
        &r["ContainerImageBuildReplication"]["Properties"]["Rules"][0]["RepositoryFilters"];
    assert_eq!(
        filters[1],
        json!({"Fn::If": ["Worker", {"Filter": {"Ref": "WorkerRepository"}, "FilterType": "PREFIX_MATCH"}, {"Ref": "AWS::NoValue"}]})
    );
    // Generated repositories are one pattern in the role, whichever images exist; a
    // named repository of a conditional image is listed only when the image exists.
    let push = |t: &Value| {
        t["Resources"]["ContainerImageBuildRole"]["Properties"]["Policies"][0]["PolicyDocument"]
            ["Statement"]
            .as_array()
            .expect("statements")
            .iter()
            .find(|s| s["Sid"] == "PushImages")
            .expect("push statement")["Resource"]
            .clone()
    };
    assert_eq!(push(&t).as_array().map(Vec::len), Some(1));
    let named = expand_yaml(&CONDITIONAL.replace(
        "Source: {S3Bucket: b, S3Key: worker.zip}",
        "Source: {S3Bucket: b, S3Key: worker.zip}\n      Repository: {RepositoryName: team/worker}",
    ));
    assert_eq!(
        push(&named)[1],
        json!({"Fn::If": ["Worker", {"Fn::GetAtt": ["WorkerRepository", "Arn"]}, {"Ref": "AWS::NoValue"}]})
    );
}

#[test]
fn only_our_transform_is_removed_and_others_keep_their_order() {
    let t = expand_yaml(CONDITIONAL);
    assert_eq!(t["Transform"], json!(["AWS::Serverless-2016-10-31"]));
    let keys: Vec<&String> = t.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        [
            "AWSTemplateFormatVersion",
            "Transform",
            "Parameters",
            "Conditions",
            "Resources"
        ]
    );
    let single = expand_yaml(
        "Transform: ContainerImageBuild\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n",
    );
    assert!(single.get("Transform").is_none());
}

#[test]
fn images_share_a_project_per_build_environment() {
    let t = expand_yaml(
        r#"
Resources:
  A:
    Type: Custom::ContainerImageBuild
    Properties: {Source: {Dockerfile: "FROM scratch"}, Platform: linux/arm64}
  B:
    Type: Custom::ContainerImageBuild
    Properties: {Source: {Dockerfile: "FROM scratch"}, Platform: linux/arm64}
  C:
    Type: Custom::ContainerImageBuild
    Properties: {Source: {Dockerfile: "FROM scratch"}, Platform: linux/arm64, ComputeType: BUILD_GENERAL1_SMALL}
  D:
    Type: Custom::ContainerImageBuild
    Properties: {Source: {Dockerfile: "FROM scratch"}}
"#,
    );
    let r = &t["Resources"];
    let project = |id: &str| {
        r[id]["Properties"]["ProjectName"]["Ref"]
            .as_str()
            .map(str::to_owned)
    };
    assert_eq!(project("A"), project("B"));
    assert_ne!(project("A"), project("C"));
    let (a, c, d) = (
        project("A").expect("A"),
        project("C").expect("C"),
        project("D").expect("D"),
    );
    assert!(
        a.starts_with("ContainerImageBuildProjectArm64")
            && a.len() > "ContainerImageBuildProjectArm64".len()
    );
    assert!(c.starts_with("ContainerImageBuildProjectArm64"));
    assert_eq!(d, "ContainerImageBuildProjectAmd64");
    assert_eq!(r[&a]["Properties"]["Environment"]["Type"], "ARM_CONTAINER");
    assert_eq!(
        r[&a]["Properties"]["Environment"]["ComputeType"],
        "BUILD_GENERAL1_LARGE"
    );
    assert_eq!(
        r[&c]["Properties"]["Environment"]["ComputeType"],
        "BUILD_GENERAL1_SMALL"
    );
    assert_eq!(
        r[&d]["Properties"]["Environment"]["Type"],
        "LINUX_CONTAINER"
    );
    assert_eq!(r[&d]["Properties"]["Environment"]["PrivilegedMode"], true);
}

#[test]
fn service_timeout_covers_the_build_and_the_replica_wait() {
    let t = expand_yaml(CONDITIONAL);
    // 40-minute build + 15 minutes of replica wait + 5 minutes to start.
    assert_eq!(
        t["Resources"]["Api"]["Properties"]["ServiceTimeout"],
        "3600"
    );
    let t = expand_yaml(
        "Resources:\n  A:\n    Type: Custom::ContainerImageBuild\n    Properties: {Source: {S3Bucket: b, S3Key: k}, TimeoutInMinutes: 20}\n",
    );
    assert_eq!(t["Resources"]["A"]["Properties"]["ServiceTimeout"], "1500");
}

#[test]
fn the_vulnerability_gate_adds_its_wait_its_script_and_its_permissions_only_where_asked() {
    let t = expand_yaml(
        "Resources:\n  A:\n    Type: Custom::ContainerImageBuild\n    Properties: {Source: {S3Bucket: b, S3Key: k}, TimeoutInMinutes: 20, Scan: {FailOnSeverity: HIGH, IgnoreFindings: [CVE-2024-1]}}\n  B:\n    Type: Custom::ContainerImageBuild\n    Properties: {Source: {S3Bucket: b, S3Key: k2}, Platform: linux/arm64}\n",
    );
    let r = &t["Resources"];
    // 20-minute build + 10 minutes of scan wait + 5 minutes to start.
    assert_eq!(r["A"]["Properties"]["ServiceTimeout"], "2100");
    assert_eq!(
        r["A"]["Properties"]["Scan"],
        json!({"FailOnSeverity": "HIGH", "IgnoreFindings": ["CVE-2024-1"]})
    );
    assert_eq!(r["A"]["Properties"]["ScanWaitMinutes"], "10");
    assert!(r["B"]["Properties"].get("Scan").is_none());
    assert!(r["B"]["Properties"].get("ScanWaitMinutes").is_none());
    let has_scan_script = |project: &str| {
        r[project]["Properties"]["Environment"]["EnvironmentVariables"]
            .as_array()
            .expect("variables")
            .iter()
            .any(|v| v["Name"] == "CIB_SCAN_SCRIPT_GZ")
    };
    assert!(has_scan_script("ContainerImageBuildProjectAmd64"));
    assert!(!has_scan_script("ContainerImageBuildProjectArm64"));
    let statements =
        r["ContainerImageBuildRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            .as_array()
            .expect("statements");
    let gate = statements
        .iter()
        .find(|s| s["Sid"] == "GateOnScanFindings")
        .expect("the gate's statement");
    assert_eq!(
        gate["Action"],
        json!(["ecr:BatchDeleteImage", "ecr:DescribeImageScanFindings"])
    );
    let t = expand_yaml(CONDITIONAL);
    assert!(
        !t.to_string().contains("GateOnScanFindings"),
        "no gate, no permissions"
    );
}

#[test]
fn a_platform_list_builds_each_platform_natively_and_keeps_the_id_for_the_index() {
    let t = expand_yaml(
        "Resources:\n  Web:\n    Type: Custom::ContainerImageBuild\n    Condition: Prod\n    Properties: {Source: {S3Bucket: b, S3Key: k}, Platform: [linux/arm64, linux/amd64], ImageTagPrefix: web-, ReplicaRegions: [us-west-2]}\n  Other:\n    Type: AWS::SSM::Parameter\n    Properties: {Type: String, Value: !Ref Web}\nConditions:\n  Prod: !Equals [a, a]\n",
    );
    let r = &t["Resources"];
    for (id, platform, project) in [
        ("WebArm64", "linux/arm64", "ContainerImageBuildProjectArm64"),
        ("WebAmd64", "linux/amd64", "ContainerImageBuildProjectAmd64"),
    ] {
        let p = &r[id]["Properties"];
        assert_eq!(p["Platform"], platform, "{id}");
        assert_eq!(p["ProjectName"], json!({"Ref": project}), "{id}");
        assert_eq!(p["RepositoryName"], json!({"Ref": "WebRepository"}), "{id}");
        assert_eq!(p["ImageTagPrefix"], "web-", "{id}");
        assert_eq!(r[id]["Condition"], "Prod", "{id}");
        assert!(p.get("Source").is_some(), "{id} builds");
    }
    assert!(r.get("WebArm64Repository").is_none() && r.get("WebAmd64Repository").is_none());
    assert_eq!(r["WebRepository"]["Type"], "AWS::ECR::Repository");
    let index = &r["Web"];
    assert_eq!(index["Type"], "Custom::ContainerImageBuild");
    assert_eq!(index["Condition"], "Prod");
    let p = &index["Properties"];
    assert!(
        p.get("Source").is_none() && p.get("ProjectName").is_none(),
        "the index builds nothing"
    );
    assert_eq!(p["ImageTagPrefix"], "web-");
    assert_eq!(p["ReplicaRegions"], json!(["us-west-2"]));
    assert_eq!(
        p["Manifests"],
        json!([
            {"Platform": "linux/arm64",
             "ImageTag": {"Fn::GetAtt": ["WebArm64", "ImageTag"]},
             "ImageDigest": {"Fn::GetAtt": ["WebArm64", "ImageDigest"]}},
            {"Platform": "linux/amd64",
             "ImageTag": {"Fn::GetAtt": ["WebAmd64", "ImageTag"]},
             "ImageDigest": {"Fn::GetAtt": ["WebAmd64", "ImageDigest"]}}
        ])
    );
    assert_eq!(
        r["Other"]["Properties"]["Value"],
        json!({"Fn::GetAtt": ["Web", "ImageUri"]}),
        "Ref to the image is the index's URI"
    );
    let filters =
        r["ContainerImageBuildReplication"]["Properties"]["Rules"][0]["RepositoryFilters"]
            .as_array()
            .expect("filters");
    assert_eq!(filters.len(), 1, "one repository, one filter: {filters:?}");
}

#[test]
fn an_existing_repository_gets_no_repository_resource() {
    let t = expand_yaml(
        "Resources:\n  A:\n    Type: Custom::ContainerImageBuild\n    Properties: {Source: {S3Bucket: b, S3Key: k}, Repository: {ExistingRepositoryName: shared/app}}\n",
    );
    let r = &t["Resources"];
    assert!(r.get("ARepository").is_none());
    assert_eq!(r["A"]["Properties"]["RepositoryName"], "shared/app");
    assert_eq!(
        r["A"]["Properties"]["RepositoryUri"],
        json!({"Fn::Sub": ["${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/${Name}", {"Name": "shared/app"}]})
    );
}

#[test]
fn the_lifecycle_policy_never_expires_a_tagged_image() {
    let t = expand_yaml(CONDITIONAL);
    let text =
        t["Resources"]["ApiRepository"]["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"]
            .as_str()
            .expect("policy text");
    let policy: Value = serde_json::from_str(text).expect("policy is JSON");
    let rules = policy["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["selection"]["tagStatus"], "untagged");
    assert_eq!(rules[0]["selection"]["countType"], "sinceImagePushed");
    assert_eq!(rules[0]["action"]["type"], "expire");
}

const TARBALLS_ONLY: &str = r#"
AWSTemplateFormatVersion: "2010-09-09"
Transform: ContainerImageBuild
Resources:
  Web:
    Type: Custom::ContainerImageBuild
    Properties:
      Source:
        ImageTarball: {S3Bucket: artifacts, S3Key: web/abc.tar, S3ObjectVersion: v1}
      ImageTagPrefix: web-
      Platform: linux/arm64
      ReplicaRegions: [us-west-2]
"#;

#[test]
fn a_template_of_tarball_images_has_no_project_role_or_log_group() {
    let t = expand_yaml(TARBALLS_ONLY);
    assert_eq!(
        ids(&t),
        vec!["Web", "WebRepository", "ContainerImageBuildReplication"]
    );
    let p = &t["Resources"]["Web"]["Properties"];
    assert_eq!(
        p["Source"],
        json!({"ImageTarball": {"S3Bucket": "artifacts", "S3Key": "web/abc.tar", "S3ObjectVersion": "v1"}})
    );
    assert_eq!(p["Platform"], json!("linux/arm64"));
    assert_eq!(p["ImageTagPrefix"], json!("web-"));
    assert_eq!(p["ContractVersion"], json!(cib_contract::CONTRACT_VERSION));
    for build_only in [
        "ProjectName",
        "BuildSpec",
        "Dockerfile",
        "Compression",
        "CacheDisabled",
        "TimeoutInMinutes",
        "CacheImageRef",
    ] {
        assert!(p.get(build_only).is_none(), "{build_only} in {p}");
    }
    assert_eq!(p["ServiceTimeout"], json!("1200"));
    assert_eq!(p["ReplicaRegions"], json!(["us-west-2"]));
}

#[test]
fn a_tarball_without_platform_carries_none_and_a_built_image_keeps_its_project() {
    let text = r#"
Resources:
  Web:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {ImageTarball: {S3Bucket: artifacts, S3Key: web.tar}}
  Api:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {S3Bucket: b, S3Key: api.zip}
"#;
    let t = expand_yaml(text);
    let resources = ids(&t);
    for id in [
        "ContainerImageBuildRole",
        "ContainerImageBuildLogGroup",
        "ContainerImageBuildProjectAmd64",
        "WebRepository",
        "ApiRepository",
    ] {
        assert!(
            resources.contains(&id.to_owned()),
            "{id} missing: {resources:?}"
        );
    }
    assert!(
        t["Resources"]["Web"]["Properties"]
            .get("Platform")
            .is_none()
    );
    let role = t["Resources"]["ContainerImageBuildRole"].to_string();
    assert!(
        !role.contains("WebRepository"),
        "the build role reaches the tarball's repository: {role}"
    );
}
