//! Shared setup of the provider tests: a moto server, the recorder, SDK clients.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ecr::config::Credentials;
use cib_provider::aws::Clients;
use cib_provider::{Provider, Settings};
use cib_testkit::{MotoServer, ResponseRecorder};
use serde_json::{Value, json};

pub const HOME: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";
/// A project named as the expansion names them, owned (tagged) by [`STACK_ID`].
pub const PROJECT: &str = "stack-ContainerImageBuildProjectArm64";
pub const REPO: &str = "stack-api";
pub const STATE_TABLE: &str = "cib-state";
pub const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/stack/11111111-2222-3333-4444-555555555555";
/// The builder image the tests' provider passes to every build.
pub const BUILDER_IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/cib-tools/buildkit@sha256:4f1c5cfc2f47e907d17ff62fd75d84d2fd5284cb1eab2780ac0bffde4d4a4a5b";

/// The artifact bucket of the support stack the tests' provider belongs to.
pub const ARTIFACT_BUCKET: &str = "cib-artifacts";
/// The access key the provider's requests are signed with: the strict layer authorizes
/// them against the support stack's `ProviderRole` ([`provider_role_policies`]).
pub const PROVIDER_ACCESS_KEY: &str = "AKIAPROVIDERROLETEST";
/// The access key the failure responder's requests are signed with (its
/// `FailureResponderRole`).
pub const RESPONDER_ACCESS_KEY: &str = "AKIARESPONDERROLETST";

/// The access key the build's scripts (`respond.sh`, `scan.sh`, the replica wait) sign
/// their requests with: the strict layer authorizes them against the build role the
/// expansion writes ([`build_role_policies`]).
pub const BUILD_ACCESS_KEY: &str = "AKIABUILDROLETEST001";

/// The build role (`ContainerImageBuildRole`) the expansion writes for `template` (YAML),
/// as IAM holds it once the stack `stack_id` is deployed in [`HOME`] of [`ACCOUNT`], with
/// each parameter at its `Default` or, without one, its own name.
pub fn build_role_policies(template: &str, stack_id: &str) -> Vec<Value> {
    match build_role_policies_with(template, stack_id, &[]) {
        Some(policies) => policies,
        None => panic!("the test's template has no build role"),
    }
}

/// [`build_role_policies`] with `values` for some parameters (`Name`) and resource
/// attributes (`LogicalId.Attribute`); the other parameters take their `Default`, else
/// their name (a list of it, for list-typed parameters). `None` when the expansion writes
/// no build role (tarball-only templates).
pub fn build_role_policies_with(
    template: &str,
    stack_id: &str,
    values: &[(&str, &str)],
) -> Option<Vec<Value>> {
    let parsed = match cib_engine::template::parse(template.as_bytes()) {
        Ok((value, _)) => value,
        Err(e) => panic!("the test's template does not parse: {e}"),
    };
    let options = cib_engine::ExpandOptions {
        region: Some(HOME.into()),
        ..cib_engine::ExpandOptions::default()
    };
    let outcome = cib_engine::expand(&parsed, &options);
    let Some(expanded) = outcome.template else {
        panic!(
            "the test's template does not expand: {:?}",
            outcome.findings
        )
    };
    let parameters = expanded
        .get("Parameters")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, p)| {
            let given = values
                .iter()
                .find(|(n, _)| *n == name.as_str())
                .map(|(_, v)| json!(v));
            let listed = p["Type"]
                .as_str()
                .is_some_and(|t| t.starts_with("List<") || t == "CommaDelimitedList");
            let value = given
                .or_else(|| p.get("Default").cloned())
                .unwrap_or_else(|| if listed { json!([name]) } else { json!(name) });
            (name.clone(), value)
        })
        .collect();
    let stack_name = stack_id.split('/').nth(1).unwrap_or("stack");
    let pseudo =
        cib_trigger::stack_context::pseudo_parameters(cib_trigger::stack_context::StackPlace {
            region: HOME,
            account: ACCOUNT,
            stack_name,
            partition: "aws",
            url_suffix: "amazonaws.com",
            stack_id: Some(stack_id),
        });
    expanded.pointer("/Resources/ContainerImageBuildRole")?;
    let mut context = cib_testkit::iam::deployed_context(&expanded, pseudo, parameters);
    for (key, value) in values {
        if let Some((id, attribute)) = key.split_once('.') {
            context
                .attributes
                .insert((id.to_string(), attribute.to_string()), json!(value));
        }
    }
    Some(cib_testkit::iam::role_policies(
        &expanded,
        "ContainerImageBuildRole",
        &context,
    ))
}

/// Environment variables for a provider binary run as the support stack's `role`, signed
/// with `access_key`, which the strict layer then authorizes against that role's policies.
pub fn binary_env_as(moto: &MotoServer, role: &str, access_key: &str) -> Vec<(String, String)> {
    moto.enforce(access_key, role, support_role_policies(role));
    moto.sdk_env_signed_as(HOME, access_key)
}

pub struct Env {
    pub moto: MotoServer,
    pub recorder: ResponseRecorder,
    /// The test's own SDK configuration (setup and assertions; not authorized).
    pub sdk: SdkConfig,
    /// The provider's: signed as the support stack's provider role.
    pub provider_sdk: SdkConfig,
    pub provider: Provider,
}

pub async fn sdk_for(moto: &MotoServer, region: &str) -> SdkConfig {
    sdk_signed_as(moto, region, "testing").await
}

/// An SDK configuration for `moto` whose requests are signed with `access_key`.
pub async fn sdk_signed_as(moto: &MotoServer, region: &str, access_key: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(moto.endpoint())
        .credentials_provider(Credentials::new(access_key, "testing", None, None, "tests"))
        .load()
        .await
}

/// The support stack's template (`deploy/support-stack.yaml`), long-form JSON.
pub fn support_stack() -> Value {
    let text = include_str!("../../../../deploy/support-stack.yaml");
    match cib_engine::template::parse_yaml(text) {
        Ok(template) => template,
        Err(e) => panic!("deploy/support-stack.yaml does not parse: {e}"),
    }
}

/// The provider role's policies as IAM holds them once the support stack is deployed in
/// [`HOME`] of [`ACCOUNT`] with [`ARTIFACT_BUCKET`] and [`STATE_TABLE`].
pub fn provider_role_policies() -> Vec<Value> {
    support_role_policies("ProviderRole")
}

/// A support-stack role's policies, resolved as [`provider_role_policies`].
pub fn support_role_policies(role: &str) -> Vec<Value> {
    let template = support_stack();
    let parameters = [
        ("ArtifactBucket", ARTIFACT_BUCKET),
        ("TransformKey", "cib/lambda/transform.zip"),
        ("ProviderKey", "cib/lambda/provider.zip"),
        ("BuilderImage", BUILDER_IMAGE),
        ("LogRetentionInDays", "30"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), json!(v)))
    .collect();
    let pseudo =
        cib_trigger::stack_context::pseudo_parameters(cib_trigger::stack_context::StackPlace {
            region: HOME,
            account: ACCOUNT,
            stack_name: "ContainerImageBuild",
            partition: "aws",
            url_suffix: "amazonaws.com",
            stack_id: None,
        });
    let mut context = cib_testkit::iam::deployed_context(&template, pseudo, parameters);
    context
        .physical_ids
        .insert("StateTable".into(), STATE_TABLE.into());
    let table = format!("arn:aws:dynamodb:{HOME}:{ACCOUNT}:table/{STATE_TABLE}");
    context
        .attributes
        .insert(("StateTable".into(), "Arn".into()), json!(table));
    for group in [
        "ProviderLogGroup",
        "FailureResponderLogGroup",
        "TransformLogGroup",
    ] {
        let name = context.physical_ids.get(group).cloned().unwrap_or_default();
        let arn = format!("arn:aws:logs:{HOME}:{ACCOUNT}:log-group:{name}:*");
        context
            .attributes
            .insert((group.to_string(), "Arn".into()), json!(arn));
    }
    cib_testkit::iam::role_policies(&template, role, &context)
}

/// The settings of the tests: fast pacing, the state table, short lock timings.
pub fn test_settings() -> Settings {
    Settings {
        replication_settle: Duration::from_millis(0),
        replication_attempts: 3,
        account_limit_backoff: Duration::from_millis(10),
        allow_http_response_url: true,
        builder_image: BUILDER_IMAGE.into(),
        state_table: Some(STATE_TABLE.to_string()),
        lock_lease: Duration::from_secs(30),
        lock_wait: Duration::from_secs(20),
        lock_poll: Duration::from_millis(50),
        ..Settings::default()
    }
}

/// Creates the support stack's state table (as deploy/support-stack.yaml declares it).
pub async fn create_state_table(sdk: &SdkConfig) {
    use aws_sdk_dynamodb::types::*;
    aws_sdk_dynamodb::Client::new(sdk)
        .create_table()
        .table_name(STATE_TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .send()
        .await
        .expect("create state table");
}

pub async fn setup() -> Env {
    let moto = MotoServer::start();
    let recorder = ResponseRecorder::start();
    let sdk = sdk_for(&moto, HOME).await;
    create_state_table(&sdk).await;
    install_provider_function(&sdk).await;
    moto.enforce(
        PROVIDER_ACCESS_KEY,
        "ProviderRole",
        provider_role_policies(),
    );
    let provider_sdk = sdk_signed_as(&moto, HOME, PROVIDER_ACCESS_KEY).await;
    let provider = Provider::new(Clients::new(provider_sdk.clone()), test_settings());
    Env {
        moto,
        recorder,
        sdk,
        provider_sdk,
        provider,
    }
}

/// The provider's function name, as the support stack names it.
pub const PROVIDER_FUNCTION: &str = "ContainerImageBuild-Provider";

/// The provider function in moto (a stack of its own, as the support stack installs it), so
/// that stacks holding our custom resources can be created: CloudFormation looks up a
/// custom resource's ServiceToken.
pub async fn install_provider_function(sdk: &SdkConfig) {
    let template = json!({"Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                           "Action": "sts:AssumeRole"}]}}},
        "Provider": {"Type": "AWS::Lambda::Function", "Properties": {
            "FunctionName": PROVIDER_FUNCTION, "Runtime": "provided.al2023",
            "Handler": "bootstrap", "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Code": {"ZipFile": "bootstrap"}}}
    }});
    aws_sdk_cloudformation::Client::new(sdk)
        .create_stack()
        .stack_name("ContainerImageBuild")
        .template_body(template.to_string())
        .send()
        .await
        .expect("install the provider function");
}

/// The status CloudFormation shows for a custom resource while it waits for the answer to
/// a request of `request_type`.
pub fn waiting_status(request_type: &str) -> &'static str {
    match request_type {
        "Create" => "CREATE_IN_PROGRESS",
        "Update" => "UPDATE_IN_PROGRESS",
        _ => "DELETE_IN_PROGRESS",
    }
}

impl Env {
    /// The failure responder (the same code, run as the support stack's
    /// `FailureResponderRole`, whose requests the strict layer authorizes).
    pub async fn responder(&self) -> Provider {
        self.moto.enforce(
            RESPONDER_ACCESS_KEY,
            "FailureResponderRole",
            support_role_policies("FailureResponderRole"),
        );
        let sdk = sdk_signed_as(&self.moto, HOME, RESPONDER_ACCESS_KEY).await;
        Provider::new(Clients::new(sdk), test_settings())
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk)
    }

    /// The test's own ECR client in `region` (not the provider's: not authorized).
    pub fn ecr(&self, region: &str) -> aws_sdk_ecr::Client {
        aws_sdk_ecr::Client::from_conf(
            aws_sdk_ecr::config::Builder::from(&self.sdk)
                .region(Region::new(region.to_string()))
                .build(),
        )
    }

    /// The test's own S3 client, by path as the provider addresses a custom endpoint.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&self.sdk)
                .force_path_style(true)
                .build(),
        )
    }

    pub fn codebuild(&self) -> aws_sdk_codebuild::Client {
        aws_sdk_codebuild::Client::new(&self.sdk)
    }

    pub fn ssm(&self) -> aws_sdk_ssm::Client {
        aws_sdk_ssm::Client::new(&self.sdk)
    }

    /// The repository in the home region and each of `replicas`, and the shared project.
    pub async fn create_resources(&self, replicas: &[&str]) {
        for region in std::iter::once(&HOME).chain(replicas) {
            self.ecr(region)
                .create_repository()
                .repository_name(REPO)
                .send()
                .await
                .expect("create repository");
        }
        self.create_project(PROJECT, Some(STACK_ID)).await;
    }

    /// A CodeBuild project named `name`, tagged `aws:cloudformation:stack-id = owner` when
    /// an owner is given (CloudFormation tags what it creates so).
    pub async fn create_project(&self, name: &str, owner: Option<&str>) {
        use aws_sdk_codebuild::types::*;
        let tags = owner.map(|stack| {
            vec![
                Tag::builder()
                    .key("aws:cloudformation:stack-id")
                    .value(stack)
                    .build(),
            ]
        });
        self.codebuild()
            .create_project()
            .name(name)
            .set_tags(tags)
            .source(
                ProjectSource::builder()
                    .r#type(SourceType::S3)
                    .location("bucket/placeholder.zip")
                    .build()
                    .expect("source"),
            )
            .artifacts(
                ProjectArtifacts::builder()
                    .r#type(ArtifactsType::NoArtifacts)
                    .build()
                    .expect("artifacts"),
            )
            .environment(
                ProjectEnvironment::builder()
                    .r#type(EnvironmentType::ArmContainer)
                    .image("aws/codebuild/amazonlinux-aarch64-standard:3.0")
                    .compute_type(ComputeType::BuildGeneral1Small)
                    .privileged_mode(true)
                    .build()
                    .expect("environment"),
            )
            .service_role(format!("arn:aws:iam::{ACCOUNT}:role/cib-build"))
            .send()
            .await
            .expect("create project");
    }

    /// Pushes an image manifest as `tag` into the repository of each region.
    pub async fn push_image(&self, tag: &str, regions: &[&str]) -> String {
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                       "size": 7023, "digest": "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7"},
            "layers": []
        })
        .to_string();
        let mut digest = String::new();
        for region in regions {
            let out = self
                .ecr(region)
                .put_image()
                .repository_name(REPO)
                .image_manifest(&manifest)
                .image_tag(tag)
                .send()
                .await
                .expect("put image");
            digest = out
                .image()
                .and_then(|i| i.image_id())
                .and_then(|i| i.image_digest())
                .unwrap_or_default()
                .to_string();
        }
        digest
    }

    pub async fn builds(&self) -> Vec<String> {
        self.codebuild()
            .list_builds_for_project()
            .project_name(PROJECT)
            .send()
            .await
            .map(|o| o.ids().to_vec())
            .unwrap_or_default()
    }

    /// Sends `event` as CloudFormation would: a CloudFormation request is played first
    /// ([`Env::play`]), so its stack holds the resource as the request says and waits for it.
    pub async fn handle(&self, event: &Value) -> Value {
        let event = self.play(event).await;
        self.provider
            .handle(event, Instant::now() + Duration::from_secs(120))
            .await
            .expect("handled")
    }

    /// Plays CloudFormation's side of `event` when it is a CloudFormation request: a moto
    /// stack whose template holds the resource with the request's properties stands for the
    /// request's stack, and the resource waits for this answer (status and physical id, see
    /// `cib_testkit::strict::cloudformation`). Returns the event as CloudFormation sends it
    /// (with `ServiceToken` in its properties). Other events pass unchanged.
    pub async fn play(&self, event: &Value) -> Value {
        let mut event = event.clone();
        if event["detail-type"] == "CodeBuild Build State Change" {
            self.play_build(&event);
            return event;
        }
        let (Some(request_type), Some(stack_id), Some(logical_id), Some(kind)) = (
            event["RequestType"].as_str().map(str::to_string),
            event["StackId"].as_str().map(str::to_string),
            event["LogicalResourceId"].as_str().map(str::to_string),
            event["ResourceType"].as_str().map(str::to_string),
        ) else {
            return event;
        };
        let token = format!("arn:aws:lambda:{HOME}:{ACCOUNT}:function:{PROVIDER_FUNCTION}");
        if event["ResourceProperties"].get("ServiceToken").is_none() {
            event["ResourceProperties"]["ServiceToken"] = json!(token);
        }
        let template = json!({"Resources": {logical_id.as_str(): {
            "Type": kind, "Properties": event["ResourceProperties"]}}});
        let played = self.deploy(&template).await;
        self.moto.play_stack(&stack_id, &played);
        self.moto.set_resource_state(
            &stack_id,
            &logical_id,
            waiting_status(&request_type),
            event["PhysicalResourceId"].as_str(),
        );
        event
    }

    /// Plays CodeBuild's side of a build-state event: the build it reports is declared to
    /// the strict layer as `BatchGetBuilds` would report it (moto runs no build), with the
    /// event's status, project, phases, variables and log link.
    pub fn play_build(&self, event: &Value) {
        let detail = &event["detail"];
        let arn = detail["build-id"].as_str().unwrap_or_default();
        let id = arn.rsplit_once(":build/").map_or(arn, |(_, id)| id);
        let info = &detail["additional-information"];
        let phases: Vec<Value> = info["phases"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                let mut phase = json!({"phaseType": p["phase-type"]});
                if let Some(status) = p.get("phase-status") {
                    phase["phaseStatus"] = status.clone();
                }
                let contexts: Vec<Value> = p["phase-context"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|m| json!({"message": m}))
                    .collect();
                phase["contexts"] = json!(contexts);
                phase
            })
            .collect();
        let variables: Vec<Value> = info["environment"]["environment-variables"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| json!({"name": v["name"], "value": v["value"], "type": v["type"]}))
            .collect();
        let build = json!({
            "id": id,
            "arn": arn,
            "buildStatus": detail["build-status"],
            "projectName": detail["project-name"],
            "phases": phases,
            "environment": {"type": "ARM_CONTAINER", "image": "aws/codebuild/amazonlinux-aarch64-standard:3.0",
                            "computeType": "BUILD_GENERAL1_SMALL", "environmentVariables": variables},
            "logs": {"deepLink": info["logs"]["deep-link"]}
        });
        self.moto.declare_build(id, build);
    }

    /// Creates a moto stack from `template` (JSON); returns its id.
    pub async fn deploy(&self, template: &Value) -> String {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static PLAYED: AtomicUsize = AtomicUsize::new(0);
        let name = format!("cib-play-{}", PLAYED.fetch_add(1, Ordering::Relaxed));
        aws_sdk_cloudformation::Client::new(&self.sdk)
            .create_stack()
            .stack_name(name)
            .template_body(template.to_string())
            .send()
            .await
            .expect("create stack")
            .stack_id()
            .unwrap_or_default()
            .to_string()
    }
}

/// `props` pointed at `repository`: its name, and its URI and ARN in [`HOME`] of
/// [`ACCOUNT`], as CloudFormation resolves them.
pub fn in_repository(mut props: Value, repository: &str) -> Value {
    props["RepositoryName"] = json!(repository);
    props["RepositoryUri"] = json!(format!(
        "{ACCOUNT}.dkr.ecr.{HOME}.amazonaws.com/{repository}"
    ));
    props["RepositoryArn"] = json!(format!(
        "arn:aws:ecr:{HOME}:{ACCOUNT}:repository/{repository}"
    ));
    props
}

/// The trigger's properties as CloudFormation would send them.
pub fn trigger_properties(stage: &str, replicas: &[&str]) -> Value {
    let props = json!({
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:ContainerImageBuild-Provider",
        "ServiceTimeout": "3000",
        "ContractVersion": "2",
        "ProjectName": PROJECT,
        "Source": {"S3Bucket": "sources", "S3Key": "api-3f2a.zip"},
        "Dockerfile": "Dockerfile",
        "BuildArgs": {"STAGE": stage, "API_URL": "https://api.example"},
        "Platform": "linux/arm64",
        "Compression": "gzip",
        "CacheDisabled": "false",
        "ReplicaRegions": replicas,
        "BuildSpec": "version: 0.2\nphases:\n  build:\n    commands:\n      - echo build\n",
        "TimeoutInMinutes": "30"
    });
    in_repository(props, REPO)
}

pub fn cfn_event(
    env: &Env,
    request_type: &str,
    request_id: &str,
    resource_type: &str,
    props: &Value,
    old: Option<&Value>,
    physical_id: Option<&str>,
) -> Value {
    let mut e = json!({
        "RequestType": request_type,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:ContainerImageBuild-Provider",
        "ResponseURL": env.recorder.url(&format!("/cfn/{request_id}?X-Amz-Signature=x")),
        "StackId": STACK_ID,
        "RequestId": request_id,
        "LogicalResourceId": "ApiImage",
        "ResourceType": resource_type,
        "ResourceProperties": props,
    });
    if let Some(old) = old {
        e["OldResourceProperties"] = old.clone();
    }
    if let Some(id) = physical_id {
        e["PhysicalResourceId"] = json!(id);
    }
    e
}

/// The tag the provider computes for `props`.
pub fn tag_of(props: &Value) -> String {
    let Value::Object(m) = props else {
        panic!("properties are an object")
    };
    let p = cib_provider::properties::TriggerProperties::parse(m).expect("properties parse");
    cib_provider::tag::image_tag(&p).expect("tag")
}

/// Stores `url` as the response parameter of request `request_id` of [`STACK_ID`], as the
/// provider does before StartBuild; returns the parameter's name.
pub async fn store_response_url(env: &Env, request_id: &str, url: &str) -> String {
    let hash = cib_provider::ids::short_hash(&[STACK_ID, request_id]);
    let name = cib_contract::response_parameter_name(STACK_ID, &hash).expect("a stack ARN");
    env.ssm()
        .put_parameter()
        .name(&name)
        .value(url)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .expect("put parameter");
    name
}

/// The value of SSM parameter `name`, decrypted, or `None` when it does not exist.
pub async fn parameter(env: &Env, name: &str) -> Option<(String, String)> {
    let out = env
        .ssm()
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .ok()?;
    let p = out.parameter()?;
    Some((
        p.value().unwrap_or_default().to_string(),
        p.r#type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
    ))
}

/// A `CodeBuild Build State Change` event of a build started for request `b-1` of
/// [`STACK_ID`] whose response parameter is `parameter` (CodeBuild shows a PARAMETER_STORE
/// variable's name, never its value).
pub fn build_state_event(
    parameter: &str,
    status: &str,
    phases: serde_json::Value,
) -> serde_json::Value {
    let vars = [
        ("CIB_RESPONSE_URL", parameter.to_string()),
        ("CIB_RESPONSE_PARAMETER", parameter.to_string()),
        ("CIB_STACK_ID", STACK_ID.to_string()),
        ("CIB_REQUEST_ID", "b-1".to_string()),
        ("CIB_LOGICAL_ID", "ApiImage".to_string()),
        ("CIB_PHYSICAL_ID", "ApiImage-0123456789abcdef".to_string()),
    ];
    json!({
        "version": "0",
        "source": "aws.codebuild",
        "detail-type": "CodeBuild Build State Change",
        "region": HOME,
        "detail": {
            "build-status": status,
            "project-name": PROJECT,
            "build-id": format!("arn:aws:codebuild:{HOME}:{ACCOUNT}:build/{PROJECT}:aaaa-bbbb"),
            "additional-information": {
                "environment": {"environment-variables": vars.iter().map(|(n, v)| json!({"name": n, "value": v, "type": if *n == "CIB_RESPONSE_URL" { "PARAMETER_STORE" } else { "PLAINTEXT" }})).collect::<Vec<_>>()},
                "phases": phases,
                "logs": {"deep-link": "https://console.aws.amazon.com/cloudwatch/home#logEvent:group=x"}
            }
        }
    })
}

/// Writes a registry replication configuration of one rule (to us-west-2) with `filters`,
/// as another stack or a person would have before the test's own requests.
pub async fn seed_replication_rule<S: AsRef<str>>(env: &Env, filters: &[S]) {
    use aws_sdk_ecr::types::{
        ReplicationConfiguration, ReplicationDestination, ReplicationRule, RepositoryFilter,
        RepositoryFilterType,
    };
    let mut rule = ReplicationRule::builder().destinations(
        ReplicationDestination::builder()
            .region("us-west-2")
            .registry_id(ACCOUNT)
            .build()
            .expect("destination"),
    );
    for f in filters {
        rule = rule.repository_filters(
            RepositoryFilter::builder()
                .filter(f.as_ref())
                .filter_type(RepositoryFilterType::PrefixMatch)
                .build()
                .expect("filter"),
        );
    }
    env.ecr(HOME)
        .put_replication_configuration()
        .replication_configuration(
            ReplicationConfiguration::builder()
                .rules(rule.build().expect("rule"))
                .build()
                .expect("configuration"),
        )
        .send()
        .await
        .expect("seed replication rule");
}
