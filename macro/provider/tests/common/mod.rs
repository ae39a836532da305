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
pub const PROJECT: &str = "cib-project";
pub const REPO: &str = "stack-api";
pub const STATE_TABLE: &str = "cib-state";
pub const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/stack/11111111-2222-3333-4444-555555555555";

pub struct Env {
    pub moto: MotoServer,
    pub recorder: ResponseRecorder,
    pub sdk: SdkConfig,
    pub provider: Provider,
}

pub async fn sdk_for(moto: &MotoServer, region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(moto.endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .load()
        .await
}

/// The settings of the tests: fast pacing, the state table, short lock timings.
pub fn test_settings() -> Settings {
    Settings {
        replication_settle: Duration::from_millis(0),
        replication_attempts: 3,
        account_limit_backoff: Duration::from_millis(10),
        allow_http_response_url: true,
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
    let provider = Provider::new(Clients::new(sdk.clone()), test_settings());
    Env {
        moto,
        recorder,
        sdk,
        provider,
    }
}

impl Env {
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk)
    }

    pub fn ecr(&self, region: &str) -> aws_sdk_ecr::Client {
        self.provider.clients.ecr_in(region)
    }

    pub fn codebuild(&self) -> aws_sdk_codebuild::Client {
        aws_sdk_codebuild::Client::new(&self.sdk)
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
        use aws_sdk_codebuild::types::*;
        self.codebuild()
            .create_project()
            .name(PROJECT)
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

    pub async fn handle(&self, event: &Value) -> Value {
        self.provider
            .handle(event.clone(), Instant::now() + Duration::from_secs(120))
            .await
            .expect("handled")
    }
}

/// The trigger's properties as CloudFormation would send them.
pub fn trigger_properties(stage: &str, replicas: &[&str]) -> Value {
    json!({
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:ContainerImageBuild-Provider",
        "ServiceTimeout": "3000",
        "ContractVersion": "1",
        "ProjectName": PROJECT,
        "RepositoryName": REPO,
        "RepositoryUri": format!("{ACCOUNT}.dkr.ecr.{HOME}.amazonaws.com/{REPO}"),
        "RepositoryArn": format!("arn:aws:ecr:{HOME}:{ACCOUNT}:repository/{REPO}"),
        "Source": {"S3Bucket": "sources", "S3Key": "api-3f2a.zip"},
        "Dockerfile": "Dockerfile",
        "BuildArgs": {"STAGE": stage, "API_URL": "https://api.example"},
        "Platform": "linux/arm64",
        "Compression": "gzip",
        "CacheDisabled": "false",
        "ReplicaRegions": replicas,
        "BuildSpec": "version: 0.2\nphases:\n  build:\n    commands:\n      - echo build\n",
        "TimeoutInMinutes": "30"
    })
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
