//! The shared CodeBuild project of one build environment.

use serde_json::{Map, Value, json};

use super::buildspec::{SCAN_SCRIPT_VARIABLE, packed_scan_script, packed_script_variables};
use super::ids;
use crate::spec::BuildEnvironment;

/// The buildspec a project carries when started without the provider's override: it
/// fails on purpose, so a build started by hand cannot push a wrong image.
const GUARD_BUILDSPEC: &str = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo \"This project only runs builds started by the ContainerImageBuild provider\"\n      - exit 1\n";

/// Default build log group of the template: the name of `ContainerImageBuildLogGroup`.
pub fn default_log_group() -> Value {
    json!({"Ref": ids::LOG_GROUP})
}

/// The project's name: the stack name and the project's logical ID, so the role can be
/// scoped to the template's projects without a dependency cycle.
pub fn name(logical_id: &str) -> Value {
    json!({"Fn::Sub": format!("${{AWS::StackName}}-{logical_id}")})
}

/// The project resource `logical_id` for `env`, whose builds may run for up to
/// `timeout_minutes`; `scan`: some image built on it has the vulnerability gate;
/// `pull_registries`: the registries its images pull base images from
/// (`<region>:<account>`, see [`super::pull`]).
pub fn resource(
    logical_id: &str,
    env: &BuildEnvironment,
    timeout_minutes: u32,
    scan: bool,
    pull_registries: &[String],
) -> Map<String, Value> {
    let platform = env.platform;
    let mut environment = Map::new();
    environment.insert("Type".into(), json!(platform.codebuild_environment_type()));
    environment.insert("Image".into(), json!(platform.codebuild_image()));
    environment.insert("ComputeType".into(), json!(env.compute_type));
    // Privileged only because the build runs a Docker daemon to build images.
    environment.insert("PrivilegedMode".into(), json!(true));
    environment.insert("ImagePullCredentialsType".into(), json!("CODEBUILD"));
    let mut variables = vec![json!({
        "Name": "CIB_DOCKER_SERVER",
        "Type": "PLAINTEXT",
        "Value": if env.docker_server { "true" } else { "false" }
    })];
    for (name, packed) in packed_script_variables() {
        variables.push(json!({"Name": name, "Type": "PLAINTEXT", "Value": packed}));
    }
    if scan {
        variables.push(json!({
            "Name": SCAN_SCRIPT_VARIABLE,
            "Type": "PLAINTEXT",
            "Value": packed_scan_script()
        }));
    }
    if !pull_registries.is_empty() {
        variables.push(json!({
            "Name": super::pull::PULL_REGISTRIES_VARIABLE,
            "Type": "PLAINTEXT",
            "Value": pull_registries.join(" ")
        }));
    }
    environment.insert("EnvironmentVariables".into(), Value::Array(variables));
    if env.docker_server {
        environment.insert(
            "DockerServer".into(),
            json!({"ComputeType": env.compute_type}),
        );
    }
    let mut properties = Map::new();
    properties.insert("Name".into(), name(logical_id));
    properties.insert(
        "Description".into(),
        json!(format!(
            "Builds {} container images for this stack (ContainerImageBuild)",
            platform.docker_name()
        )),
    );
    properties.insert(
        "ServiceRole".into(),
        json!({"Fn::GetAtt": [ids::ROLE, "Arn"]}),
    );
    properties.insert(
        "Source".into(),
        json!({"Type": "NO_SOURCE", "BuildSpec": GUARD_BUILDSPEC}),
    );
    properties.insert("Artifacts".into(), json!({"Type": "NO_ARTIFACTS"}));
    properties.insert("Environment".into(), Value::Object(environment));
    properties.insert("TimeoutInMinutes".into(), json!(timeout_minutes));
    properties.insert("QueuedTimeoutInMinutes".into(), json!(60));
    properties.insert(
        "LogsConfig".into(),
        json!({"CloudWatchLogs": {"Status": "ENABLED", "GroupName": default_log_group()}}),
    );
    if let Some(vpc) = &env.vpc_config {
        properties.insert("VpcConfig".into(), vpc.clone());
    }
    let mut resource = Map::new();
    resource.insert("Type".into(), json!("AWS::CodeBuild::Project"));
    resource.insert("Properties".into(), Value::Object(properties));
    resource
}
