//! Image repositories (generated names, immutable tags), the registry-cache repository,
//! and a build role whose policy does not grow with the number of images.

use cib_engine::checks::ids;
use cib_engine::checks::policy_size::{MAX_ROLE_POLICY_CHARS, measure};
use cib_engine::expand::repository::LIFECYCLE_POLICY;
use cib_engine::{ExpandOptions, Finding, expand, template};
use serde_json::{Value, json};

fn options() -> ExpandOptions {
    ExpandOptions {
        region: Some("us-east-1".into()),
        ..ExpandOptions::default()
    }
}

fn outcome(text: &str) -> cib_engine::Outcome {
    let (value, _) = template::parse(text.as_bytes()).expect("test template parses");
    expand(&value, &options())
}

fn expand_yaml(text: &str) -> Value {
    let outcome = outcome(text);
    match outcome.template {
        Some(t) => t,
        None => panic!("expansion failed: {:?}", outcome.findings),
    }
}

fn statements(t: &Value) -> Vec<Value> {
    t["Resources"]["ContainerImageBuildRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        ["Statement"]
        .as_array()
        .expect("statements")
        .clone()
}

fn statement(t: &Value, sid: &str) -> Value {
    statements(t)
        .into_iter()
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("no statement {sid}"))
}

fn uuid() -> Value {
    json!({"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]})
}

/// A template of `n` images from one bucket (keys under `contexts/`), no replicas.
fn images(n: usize) -> String {
    let mut text = String::from("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n");
    for i in 0..n {
        text.push_str(&format!(
            "  Image{i}:\n    Type: Custom::ContainerImageBuild\n    Properties:\n      Source: {{S3Bucket: my-source-bucket, S3Key: contexts/image-{i}.zip}}\n"
        ));
    }
    text
}

const MIXED: &str = r#"
Resources:
  Api:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {S3Bucket: b, S3Key: apps/api.zip}
      ReplicaRegions: [us-west-2]
  API:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {S3Bucket: b, S3Key: apps/api2.zip}
  Pinned:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {S3Bucket: other, S3Key: pinned.zip}
      ImageTag: stable
      CacheDisabled: true
      Repository: {RepositoryName: team/pinned}
  Shared:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {Dockerfile: "FROM scratch"}
      DockerServer: true
      Repository: {ExistingRepositoryName: shared/app}
"#;

#[test]
fn generated_repositories_are_named_per_stack_instance_and_have_immutable_tags() {
    let t = expand_yaml(MIXED);
    let r = &t["Resources"];
    let single = expand_yaml(
        "Resources:\n  Api:\n    Type: Custom::ContainerImageBuild\n    Properties: {Source: {S3Bucket: b, S3Key: k}}\n",
    );
    let api = &single["Resources"]["ApiRepository"]["Properties"];
    assert_eq!(
        api["RepositoryName"],
        json!({"Fn::Sub": ["cib/api-${StackUuid}", {"StackUuid": uuid()}]})
    );
    assert_eq!(api["ImageTagMutability"], "IMMUTABLE");
    // `Api` and `API` lowercase alike: both names end in a hash of the exact ID.
    let name = |id: &str| {
        r[format!("{id}Repository")]["Properties"]["RepositoryName"]["Fn::Sub"][0]
            .as_str()
            .expect("name")
            .to_owned()
    };
    let (lower, upper) = (name("Api"), name("API"));
    for name in [&lower, &upper] {
        assert!(name.starts_with("cib/api-") && name.ends_with("-${StackUuid}"));
        assert_eq!(name.len(), "cib/api-12345678-${StackUuid}".len());
    }
    assert_ne!(lower, upper);
    assert_eq!(
        r["ApiRepository"]["Properties"]["ImageTagMutability"],
        "IMMUTABLE"
    );
    let pinned = &r["PinnedRepository"]["Properties"];
    assert_eq!(pinned["RepositoryName"], "team/pinned");
    assert_eq!(pinned["ImageTagMutability"], "MUTABLE");
    assert_eq!(
        pinned["LifecyclePolicy"]["LifecyclePolicyText"],
        LIFECYCLE_POLICY
    );
    // The replication filter is the repository's full name.
    assert_eq!(
        r["ContainerImageBuildReplication"]["Properties"]["Rules"][0]["RepositoryFilters"][0]["Filter"],
        json!({"Ref": "ApiRepository"})
    );
}

#[test]
fn a_logical_id_over_150_characters_is_cut_in_the_repository_name() {
    let id = format!("A{}", "b".repeat(200));
    let t = expand_yaml(&format!(
        "Resources:\n  {id}:\n    Type: Custom::ContainerImageBuild\n    Properties:\n      Source: {{S3Bucket: b, S3Key: k.zip}}\n"
    ));
    let name = t["Resources"][format!("{id}Repository")]["Properties"]["RepositoryName"]["Fn::Sub"]
        [0]
    .as_str()
    .expect("name")
    .to_owned();
    let segment = name
        .strip_prefix("cib/")
        .and_then(|n| n.strip_suffix("-${StackUuid}"))
        .expect("cib/<segment>-<uuid>");
    assert_eq!(segment.len(), 150);
    assert!(segment.chars().all(|c| c.is_ascii_lowercase()));
    // The cache tag is cut to 128 characters.
    let cache_ref = t["Resources"][&id]["Properties"]["CacheImageRef"]["Fn::Sub"]
        .as_str()
        .expect("cache ref");
    let tag = cache_ref.rsplit(':').next().expect("tag");
    assert_eq!(tag.len(), 128);
}

#[test]
fn one_cache_repository_serves_every_image_that_uses_the_registry_cache() {
    let t = expand_yaml(MIXED);
    let r = &t["Resources"];
    let cache = &r["ContainerImageBuildCache"];
    assert_eq!(cache["Type"], "AWS::ECR::Repository");
    assert_eq!(cache["DeletionPolicy"], "Delete");
    assert_eq!(cache["UpdateReplacePolicy"], "Delete");
    let p = &cache["Properties"];
    assert_eq!(
        p["RepositoryName"],
        json!({"Fn::Sub": ["cib-cache/${StackUuid}", {"StackUuid": uuid()}]})
    );
    assert_eq!(p["ImageTagMutability"], "MUTABLE");
    assert_eq!(p["ImageScanningConfiguration"]["ScanOnPush"], false);
    assert_eq!(p["EmptyOnDelete"], true);
    let lifecycle: Value = serde_json::from_str(
        p["LifecyclePolicy"]["LifecyclePolicyText"]
            .as_str()
            .expect("text"),
    )
    .expect("JSON");
    assert_eq!(lifecycle["rules"][0]["selection"]["tagStatus"], "untagged");
    assert_eq!(lifecycle["rules"][0]["selection"]["countNumber"], 1);

    assert_eq!(
        r["Api"]["Properties"]["CacheImageRef"],
        json!({"Fn::Sub": "${ContainerImageBuildCache.RepositoryUri}:Api"})
    );
    assert!(r["Pinned"]["Properties"].get("CacheImageRef").is_none());
    assert!(r["Shared"]["Properties"].get("CacheImageRef").is_none());

    let without = expand_yaml(
        "Resources:\n  A:\n    Type: Custom::ContainerImageBuild\n    Properties: {Source: {S3Bucket: b, S3Key: k}, CacheDisabled: true}\n",
    );
    assert!(
        without["Resources"]
            .get("ContainerImageBuildCache")
            .is_none()
    );
    assert!(
        statements(&without)
            .iter()
            .all(|s| s["Sid"] != "BuildCache"),
        "no cache statement without a cache"
    );
}

#[test]
fn triggers_and_replication_carry_the_shared_contract_version() {
    let t = expand_yaml(MIXED);
    let r = &t["Resources"];
    assert_eq!(
        r["Api"]["Properties"]["ContractVersion"],
        cib_contract::CONTRACT_VERSION
    );
    assert_eq!(
        r["ContainerImageBuildReplication"]["Properties"]["ContractVersion"],
        cib_contract::CONTRACT_VERSION
    );
}

#[test]
fn the_role_names_generated_repositories_by_pattern_and_named_ones_by_arn() {
    let t = expand_yaml(MIXED);
    assert_eq!(
        statement(&t, "PushImages")["Resource"],
        json!([
            {"Fn::Sub": ["arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/cib/*-${StackUuid}", {"StackUuid": uuid()}]},
            {"Fn::GetAtt": ["PinnedRepository", "Arn"]},
            {"Fn::Sub": ["arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/${Name}", {"Name": "shared/app"}]}
        ])
    );
    assert_eq!(
        statement(&t, "WaitForReplicas")["Resource"],
        json!([
            {"Fn::Sub": ["arn:${AWS::Partition}:ecr:*:${AWS::AccountId}:repository/cib/*-${StackUuid}", {"StackUuid": uuid()}]}
        ])
    );
    assert_eq!(
        statement(&t, "BuildCache")["Resource"],
        json!({"Fn::GetAtt": ["ContainerImageBuildCache", "Arn"]})
    );
    assert_eq!(
        statement(&t, "PullBuilder")["Resource"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/cib-tools/*"})
    );
    let ssm = statement(&t, "ReadResponseUrl");
    assert_eq!(
        ssm["Action"],
        json!(["ssm:GetParameters", "ssm:DeleteParameter"])
    );
    assert_eq!(
        ssm["Resource"],
        json!({"Fn::Sub": ["arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/ContainerImageBuild/responses/${StackUuid}/*", {"StackUuid": uuid()}]})
    );
}

#[test]
fn source_objects_are_scoped_by_bucket_and_common_key_prefix_with_sub() {
    let t = expand_yaml(MIXED);
    let sources = statement(&t, "ReadBuildContexts");
    assert_eq!(
        sources["Resource"],
        json!([
            {"Fn::Sub": ["arn:${AWS::Partition}:s3:::${Bucket}/apps/api*", {"Bucket": "b"}]},
            {"Fn::Sub": ["arn:${AWS::Partition}:s3:::${Bucket}/pinned.zip", {"Bucket": "other"}]}
        ])
    );
    assert!(
        !t.to_string().contains("Fn::Join"),
        "no Fn::Join in the role"
    );
    let kms = statement(&t, "DecryptWithCustomerKeys");
    assert_eq!(kms["Action"], "kms:Decrypt");
    assert_eq!(
        kms["Condition"]["StringLike"]["kms:ViaService"],
        json!([{"Fn::Sub": "s3.${AWS::Region}.*"}])
    );
}

#[test]
fn a_key_given_as_an_intrinsic_keeps_its_known_literal_prefix() {
    let t = expand_yaml(
        r#"
Parameters:
  Version: {Type: String}
Resources:
  A:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {S3Bucket: b, S3Key: !Sub "ctx/a-${Version}.zip"}
  B:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {S3Bucket: b, S3Key: "ctx/b.zip"}
"#,
    );
    assert_eq!(
        statement(&t, "ReadBuildContexts")["Resource"],
        json!([{"Fn::Sub": ["arn:${AWS::Partition}:s3:::${Bucket}/ctx/*", {"Bucket": "b"}]}])
    );
}

#[test]
fn the_role_policy_does_not_grow_with_the_number_of_images() {
    let size = |n: usize| {
        let t = expand_yaml(&images(n));
        measure(&t).expect("a role").0
    };
    // One key is named exactly; several by their common prefix `contexts/image-*`.
    let two = size(2);
    assert!(size(1).abs_diff(two) < 10);
    assert_eq!(size(120), two);
    assert_eq!(size(248), two);
}

#[test]
fn the_most_images_cib_check_accepts_expand_pass_every_check_and_fit_iam() {
    let text = images(248);
    let outcome = outcome(&text);
    let errors: Vec<&Finding> = outcome.findings.iter().filter(|f| f.is_error()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let t = outcome.template.expect("expanded");
    let (size, _) = measure(&t).expect("a role");
    assert!(
        size <= MAX_ROLE_POLICY_CHARS,
        "worst-case policy of 248 images: {size} characters"
    );
}

#[test]
fn cib053_fires_when_the_worst_case_policy_passes_the_quota() {
    let mut text = String::from("Parameters:\n");
    for i in 0..20 {
        text.push_str(&format!("  S{i}: {{Type: String}}\n"));
    }
    text.push_str("Resources:\n  A:\n    Type: Custom::ContainerImageBuild\n    Properties:\n      Source: {S3Bucket: b, S3Key: k}\n      BuildSecrets:\n");
    for i in 0..20 {
        text.push_str(&format!("        s{i}: !Ref S{i}\n"));
    }
    let outcome = outcome(&text);
    let finding = outcome
        .findings
        .iter()
        .find(|f| f.id == ids::ROLE_POLICY_TOO_LARGE)
        .expect("CIB053");
    assert!(outcome.template.is_none());
    assert_eq!(
        finding.path,
        "Resources.ContainerImageBuildRole.Properties.Policies"
    );
    assert!(
        finding.message.contains("ReadBuildSecrets"),
        "{}",
        finding.message
    );
    assert!(finding.message.contains("10240"), "{}", finding.message);
}

#[test]
fn the_support_stack_gives_replicas_the_home_repositories_settings() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/support-stack.yaml");
    let bytes = std::fs::read(&path).expect("support stack");
    let (stack, _) = template::parse(&bytes).expect("support stack parses");
    let templates: Vec<&Value> = stack["Resources"]
        .as_object()
        .expect("resources")
        .values()
        .filter(|r| r["Type"] == "AWS::ECR::RepositoryCreationTemplate")
        .collect();
    assert_eq!(templates.len(), 1);
    let p = &templates[0]["Properties"];
    assert_eq!(p["Prefix"], cib_contract::REPOSITORY_NAMESPACE);
    assert_eq!(p["AppliedFor"], json!(["REPLICATION"]));
    assert_eq!(p["ImageTagMutability"], "IMMUTABLE");
    assert_eq!(p["EncryptionConfiguration"]["EncryptionType"], "AES256");
    assert_eq!(p["LifecyclePolicy"], LIFECYCLE_POLICY);
}

#[test]
fn what_many_images_share_is_listed_once_in_the_role() {
    // 200 images in one VPC, with the same login secret and pull-through cache, from two
    // buckets, and 20 images with names of their own: only the 20 names add to the policy.
    let mut text =
        String::from("Parameters:\n  Subnets: {Type: 'List<AWS::EC2::Subnet::Id>'}\nResources:\n");
    for i in 0..220 {
        let bucket = if i % 2 == 0 { "bucket-a" } else { "bucket-b" };
        let named = if i < 20 {
            format!("\n      Repository: {{RepositoryName: team/service-{i}}}")
        } else {
            String::new()
        };
        text.push_str(&format!(
            "  Image{i}:\n    Type: Custom::ContainerImageBuild\n    Properties:\n      Source: {{S3Bucket: {bucket}, S3Key: ctx/{i}.zip}}\n      DockerLoginSecretArn: arn:aws:secretsmanager:us-east-1:123456789012:secret:hub-AbCdEf\n      PullThroughCachePrefixes: [docker-hub]\n      VpcConfig: {{VpcId: vpc-0123456789abcdef0, Subnets: [subnet-0123456789abcdef0, subnet-0123456789abcdef1], SecurityGroupIds: [sg-0123456789abcdef0]}}{named}\n"
        ));
    }
    let outcome = outcome(&text);
    let errors: Vec<&Finding> = outcome.findings.iter().filter(|f| f.is_error()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let t = outcome.template.expect("expanded");
    let count = |sid: &str| {
        statement(&t, sid)["Resource"]
            .as_array()
            .map_or(1, Vec::len)
    };
    assert_eq!(count("ReadBuildSecrets"), 1);
    assert_eq!(count("PullThroughCaches"), 1);
    assert_eq!(count("ReadBuildContexts"), 2);
    assert_eq!(count("PushImages"), 21);
    assert_eq!(
        statement(&t, "AttachToBuildSubnets")["Condition"]["ArnEquals"]["ec2:Subnet"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    // Network interfaces only in the builds' subnets and security groups (one interface
    // ARN pattern, two subnets, one security group).
    let interfaces = statement(&t, "BuildNetworkInterfaces");
    assert_eq!(
        interfaces["Action"],
        json!(["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"])
    );
    assert_eq!(count("BuildNetworkInterfaces"), 4);
    assert!(
        !statement(&t, "BuildInVpc")["Action"]
            .to_string()
            .contains("NetworkInterface\""),
        "only actions without a resource type stay on *"
    );
    let (size, _) = measure(&t).expect("a role");
    assert!(size <= MAX_ROLE_POLICY_CHARS, "{size}");
}
