//! `cib plan` and the plan `cib deploy` prints, against moto on 127.0.0.1: a stack deployed
//! from a change set `cib deploy` made, a registry holding some tags (pushed here), and
//! templates or parameters changed one input at a time. Each case asserts the action and
//! the property path behind it, and that the plan's tag is the one the provider computes
//! (`cib_trigger::TriggerProperties::parse` then `image_tag`, the provider's calls) from
//! the properties CloudFormation sends, written out here by hand.
//!
//! moto notes (moto 5.2): a stack with custom resources stays `CREATE_IN_PROGRESS` (moto
//! invokes the provider Lambda in a container, which the tests do not run), but its
//! resources exist, `ListStackResources` lists their physical IDs and `GetTemplate` answers
//! the template; that is all a plan reads.

mod common;

use common::{cib_on, run, text};

use std::fs;
use std::path::Path;
use std::process::Output;

use cib_testkit::MotoServer;
use serde_json::{Value, json};

use common::REGION;
const REPLICA: &str = "us-west-2";
const ACCOUNT: &str = "123456789012";

fn show(output: &Output) -> String {
    format!(
        "{:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    )
}

fn write(path: &Path, content: &str) {
    fs::write(path, content).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

struct Aws {
    runtime: tokio::runtime::Runtime,
    config: aws_config::SdkConfig,
}

impl Aws {
    fn new(moto: &MotoServer) -> Aws {
        let (runtime, config) = common::sdk_on(moto);
        Aws { runtime, config }
    }

    fn ecr(&self, region: &str) -> aws_sdk_ecr::Client {
        aws_sdk_ecr::Client::from_conf(
            aws_sdk_ecr::config::Builder::from(&self.config)
                .region(aws_config::Region::new(region.to_owned()))
                .build(),
        )
    }

    fn cfn(&self) -> aws_sdk_cloudformation::Client {
        aws_sdk_cloudformation::Client::new(&self.config)
    }

    fn physical_id(&self, stack: &str, logical_id: &str) -> String {
        let out = self
            .runtime
            .block_on(
                self.cfn()
                    .describe_stack_resource()
                    .stack_name(stack)
                    .logical_resource_id(logical_id)
                    .send(),
            )
            .unwrap_or_else(|e| panic!("describe {logical_id}: {e:?}"));
        out.stack_resource_detail()
            .and_then(|d| d.physical_resource_id())
            .unwrap_or_default()
            .to_owned()
    }

    /// Pushes a one-layer image manifest under `tag`; returns its digest.
    fn push(&self, region: &str, repository: &str, tag: &str) -> String {
        let ecr = self.ecr(region);
        let _ = self
            .runtime
            .block_on(ecr.create_repository().repository_name(repository).send());
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2,
                       "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},
            "layers": []
        });
        let out = self
            .runtime
            .block_on(
                ecr.put_image()
                    .repository_name(repository)
                    .image_tag(tag)
                    .image_manifest(manifest.to_string())
                    .send(),
            )
            .unwrap_or_else(|e| panic!("put image {repository}:{tag} in {region}: {e:?}"));
        out.image()
            .and_then(|i| i.image_id())
            .and_then(|i| i.image_digest())
            .unwrap_or_default()
            .to_owned()
    }

    /// Starts a build on the stack's project and records it on the repository, as the
    /// provider does (`cib_trigger::marker`); moto ends it 1 to 5 minutes after its start.
    fn record_build(&self, repository: &str, logical_id: &str) {
        use aws_sdk_codebuild::types::*;
        let codebuild = aws_sdk_codebuild::Client::new(&self.config);
        let project = "app-ContainerImageBuildProjectAmd64";
        let build = self.runtime.block_on(async {
            codebuild
                .create_project()
                .name(project)
                .source(
                    ProjectSource::builder()
                        .r#type(SourceType::S3)
                        .location("contexts/api/v1.zip")
                        .buildspec("version: 0.2")
                        .build()?,
                )
                .artifacts(
                    ProjectArtifacts::builder()
                        .r#type(ArtifactsType::NoArtifacts)
                        .build()?,
                )
                .environment(
                    ProjectEnvironment::builder()
                        .r#type(EnvironmentType::LinuxContainer)
                        .image("aws/codebuild/amazonlinux-x86_64-standard:5.0")
                        .compute_type(ComputeType::BuildGeneral1Medium)
                        .build()?,
                )
                .service_role(format!("arn:aws:iam::{ACCOUNT}:role/build"))
                .send()
                .await?;
            let started = codebuild.start_build().project_name(project).send().await?;
            Ok::<_, Box<dyn std::error::Error>>(
                started
                    .build_value()
                    .and_then(|b| b.id())
                    .unwrap_or_default()
                    .to_owned(),
            )
        });
        let build = build.unwrap_or_else(|e| panic!("start a build: {e:?}"));
        let stack_id = self
            .runtime
            .block_on(self.cfn().describe_stacks().stack_name("app").send())
            .ok()
            .and_then(|o| {
                o.stacks()
                    .first()
                    .and_then(|s| s.stack_id())
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        let arn = format!("arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{repository}");
        let tag = aws_sdk_ecr::types::Tag::builder()
            .key(cib_trigger::marker::build_marker_key(&stack_id, logical_id))
            .value(cib_trigger::marker::build_marker_value(
                "0123456789abcdef",
                &build,
            ))
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        self.runtime
            .block_on(
                self.ecr(REGION)
                    .tag_resource()
                    .resource_arn(arn)
                    .tags(tag)
                    .send(),
            )
            .unwrap_or_else(|e| panic!("tag the repository: {e:?}"));
    }

    fn delete(&self, region: &str, repository: &str, tag: &str) {
        self.runtime
            .block_on(
                self.ecr(region)
                    .batch_delete_image()
                    .repository_name(repository)
                    .image_ids(
                        aws_sdk_ecr::types::ImageIdentifier::builder()
                            .image_tag(tag)
                            .build(),
                    )
                    .send(),
            )
            .unwrap_or_else(|e| panic!("delete {repository}:{tag}: {e:?}"));
    }
}

fn fake_artifacts(root: &Path) -> std::path::PathBuf {
    let dir = root.join("lambda");
    for name in ["bootstrap", "cib-provider"] {
        let file = dir.join(name).join("bootstrap.zip");
        fs::create_dir_all(file.parent().unwrap_or(root)).unwrap_or_else(|e| panic!("{e}"));
        write(&file, &format!("not really a zip: {name}"));
    }
    dir
}

const BUILDER_IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/cib-tools/buildkit@sha256:1f8167fcb0eca5b7126353d35299386945cbb8949cc516c592a49f80cfce4fa2";

/// Two images: `Api` from an S3 context with a build argument and a replica region, and
/// `Worker` (inline Dockerfile) built on `Api`'s image.
const TEMPLATE: &str = "\
Parameters:
  Version: {Type: String, Default: '1.2'}
  ContextKey: {Type: String, Default: api/v1.zip}
Resources:
  Api:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {S3Bucket: contexts, S3Key: !Ref ContextKey}
      BuildArgs: {VERSION: !Ref Version}
      ReplicaRegions: [us-west-2]
  Worker:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {Dockerfile: \"ARG BASE\\nFROM ${BASE}\\n\"}
      BuildArgs: {BASE: !GetAtt Api.ImageUri}
";

/// `Api`'s properties as CloudFormation sends them to the provider, for `version` and `key`.
fn api_properties(repository: &str, version: &str, key: &str) -> serde_json::Map<String, Value> {
    let uri = format!("{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{repository}");
    let Value::Object(m) = json!({
        "ServiceToken": format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:ContainerImageBuild-Provider"),
        "ContractVersion": "2",
        "ProjectName": "app-ContainerImageBuildProjectAmd64",
        "RepositoryName": repository,
        "RepositoryUri": uri,
        "RepositoryArn": format!("arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{repository}"),
        "Source": {"S3Bucket": "contexts", "S3Key": key},
        "Dockerfile": "Dockerfile",
        "BuildArgs": {"VERSION": version},
        "Platform": "linux/amd64",
        "Compression": "gzip",
        "CacheDisabled": "false",
        "ReplicaRegions": [REPLICA],
        "ReplicaWaitMinutes": "15",
        "TimeoutInMinutes": "60",
        "BuildSpec": "version: 0.2"
    }) else {
        unreachable!()
    };
    m
}

/// The tag the provider computes from `props`.
fn provider_tag(props: &serde_json::Map<String, Value>) -> String {
    let parsed = cib_trigger::TriggerProperties::parse(props)
        .unwrap_or_else(|e| panic!("the provider refuses the properties: {e}"));
    cib_trigger::image_tag(&parsed).unwrap_or_else(|e| panic!("no tag: {e}"))
}

fn plan(moto: &MotoServer, template: &Path, extra: &[&str]) -> (Output, Value) {
    let output = run(cib_on(moto)
        .arg("plan")
        .arg(template)
        .args([
            "--stack-name",
            "app",
            "--format",
            "json",
            "--detailed-exitcode",
        ])
        .args(extra));
    let parsed: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    assert!(parsed.is_object(), "no JSON plan: {}", show(&output));
    (output, parsed)
}

fn image<'a>(plan: &'a Value, id: &str) -> &'a Value {
    plan["images"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["logicalId"] == id))
        .unwrap_or_else(|| panic!("{id} missing from {plan}"))
}

#[test]
fn plan_names_the_action_and_the_changed_input_and_agrees_with_the_provider() {
    let moto = MotoServer::start();
    let aws = Aws::new(&moto);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let bootstrap = run(cib_on(&moto)
        .args([
            "bootstrap",
            "--poll-seconds",
            "1",
            "--builder-image",
            BUILDER_IMAGE,
        ])
        .arg("--artifacts")
        .arg(fake_artifacts(dir.path())));
    assert!(bootstrap.status.success(), "{}", show(&bootstrap));
    let template = dir.path().join("template.yaml");
    write(&template, TEMPLATE);

    // The first deploy: `cib deploy` prints the plan of a new stack, then its change set.
    let deploy = run(cib_on(&moto).arg("deploy").arg(&template).args([
        "--stack-name",
        "app",
        "--no-execute",
        "--poll-seconds",
        "1",
    ]));
    assert!(deploy.status.success(), "{}", show(&deploy));
    let stdout = text(&deploy.stdout);
    assert!(
        stdout.contains("Image plan for stack app (new stack): 2 image(s)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 to build (2 on BUILD_GENERAL1_"),
        "{stdout}"
    );
    let plan_at = stdout.find("Image plan").unwrap_or(usize::MAX);
    let changes_at = stdout.find("Changes to stack app").unwrap_or(0);
    assert!(plan_at < changes_at, "the plan comes first:\n{stdout}");
    let change_set = stdout
        .split_whitespace()
        .skip_while(|w| *w != "--change-set-name")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    aws.runtime
        .block_on(
            aws.cfn()
                .execute_change_set()
                .stack_name("app")
                .change_set_name(&change_set)
                .send(),
        )
        .unwrap_or_else(|e| panic!("execute {change_set}: {e:?}"));

    // The provider built Api: its tag is in the repository, at home and in the replica.
    let repository = aws.physical_id("app", "ApiRepository");
    assert!(repository.starts_with("cib/api-"), "{repository}");
    let deployed_tag = provider_tag(&api_properties(&repository, "1.2", "api/v1.zip"));
    aws.push(REGION, &repository, &deployed_tag);
    aws.push(REPLICA, &repository, &deployed_tag);
    let worker_repository = aws.physical_id("app", "WorkerRepository");
    aws.record_build(&repository, "Api");

    // Nothing changed: nothing is sent to the provider, so nothing builds.
    let (output, same) = plan(&moto, &template, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let api = image(&same, "Api");
    assert_eq!(api["action"], "skip", "{same}");
    assert_eq!(
        api["tag"],
        deployed_tag.as_str(),
        "the plan's tag is the provider's"
    );
    assert_eq!(image(&same, "Worker")["action"], "skip", "{same}");

    // One build argument: Api builds, and Worker, built on Api's new ImageUri, too.
    let (output, bumped) = plan(&moto, &template, &["--parameter-overrides", "Version=1.3"]);
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    let api = image(&bumped, "Api");
    assert_eq!(api["action"], "build", "{bumped}");
    assert_eq!(api["paths"], json!(["BuildArgs.VERSION"]));
    assert_eq!(api["reason"], r#"BuildArgs.VERSION: "1.2" -> "1.3""#);
    let new_tag = provider_tag(&api_properties(&repository, "1.3", "api/v1.zip"));
    assert_eq!(api["tag"], new_tag.as_str());
    let last = api["lastBuildSeconds"].as_u64().unwrap_or_default();
    assert!(
        (60..=300).contains(&last),
        "the previous build's time: {api}"
    );
    let worker = image(&bumped, "Worker");
    assert_eq!(
        worker["lastBuildSeconds"],
        Value::Null,
        "never built: {worker}"
    );
    assert_eq!(worker["action"], "build", "{bumped}");
    assert_eq!(worker["paths"], json!(["BuildArgs.BASE"]));
    assert!(
        worker["tag"].as_str().is_some_and(|t| t.len() == 64),
        "{worker}"
    );
    assert!(
        !worker_repository.is_empty(),
        "the worker's repository exists"
    );

    // A new context.
    let (_, moved) = plan(
        &moto,
        &template,
        &["--parameter-overrides", "ContextKey=api/v2.zip"],
    );
    let api = image(&moved, "Api");
    assert_eq!(api["action"], "build", "{moved}");
    assert_eq!(api["paths"], json!(["Source.S3Key"]));
    assert_eq!(api["reason"], "Source.S3Key changed (new context)");
    assert_eq!(
        api["tag"],
        provider_tag(&api_properties(&repository, "1.2", "api/v2.zip")).as_str()
    );

    // A property the tag does not read: sent to the provider, whose tag exists everywhere.
    let timeout = dir.path().join("timeout.yaml");
    write(
        &timeout,
        &TEMPLATE.replace(
            "      ReplicaRegions: [us-west-2]\n",
            "      ReplicaRegions: [us-west-2]\n      TimeoutInMinutes: 30\n",
        ),
    );
    let (output, longer) = plan(&moto, &timeout, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let api = image(&longer, "Api");
    assert_eq!(api["action"], "skip", "{longer}");
    assert!(
        api["reason"]
            .as_str()
            .is_some_and(|r| r.contains("in every replica region")),
        "{api}"
    );

    // The replica lost the image: copied, not built.
    aws.delete(REPLICA, &repository, &deployed_tag);
    let (output, partial) = plan(&moto, &timeout, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let api = image(&partial, "Api");
    assert_eq!(api["action"], "copy", "{partial}");
    assert!(
        api["reason"]
            .as_str()
            .is_some_and(|r| r.contains("missing in us-west-2")),
        "{api}"
    );

    // A value CloudFormation knows only during the deploy.
    let queue = dir.path().join("queue.yaml");
    write(
        &queue,
        &format!(
            "{}  Queue:\n    Type: AWS::SQS::Queue\n",
            TEMPLATE.replace(
                "      BuildArgs: {VERSION: !Ref Version}\n",
                "      BuildArgs: {VERSION: !Ref Version, QUEUE: !GetAtt Queue.Arn}\n",
            )
        ),
    );
    let (output, unknown) = plan(&moto, &queue, &[]);
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    let api = image(&unknown, "Api");
    assert_eq!(api["action"], "unknown", "{unknown}");
    assert_eq!(api["paths"], json!(["BuildArgs.QUEUE"]));
    assert!(
        api["reason"]
            .as_str()
            .is_some_and(|r| r.contains("Fn::GetAtt Queue.Arn")),
        "{api}"
    );
    assert_eq!(
        unknown["totals"]["unknown"], 2,
        "Worker is built on Api: {unknown}"
    );

    // The text form: one line per image, then totals.
    let output = run(cib_on(&moto).arg("plan").arg(&template).args([
        "--stack-name",
        "app",
        "--parameter-overrides",
        "Version=1.3",
    ]));
    assert_eq!(
        output.status.code(),
        Some(0),
        "without --detailed-exitcode: {}",
        show(&output)
    );
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains(&format!(
            "  build   Api     {}… BuildArgs.VERSION: \"1.2\" -> \"1.3\"",
            &new_tag[..12]
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 to build (2 on BUILD_GENERAL1_"),
        "{stdout}"
    );
    assert!(stdout.contains("(last build "), "{stdout}");
    assert!(
        stdout.contains("previous builds of the images to build took "),
        "{stdout}"
    );
}
