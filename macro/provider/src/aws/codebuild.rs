//! CodeBuild calls: StartBuild, and reading a build's environment.

use aws_sdk_codebuild::Client;
use aws_sdk_codebuild::error::ProvideErrorMetadata;
use aws_sdk_codebuild::operation::start_build::StartBuildError;
use aws_sdk_codebuild::types::{
    CloudWatchLogsConfig, EnvironmentVariable, EnvironmentVariableType, LogsConfig,
    LogsConfigStatusType, SourceType,
};

use crate::build_request::{BuildRequest, VariableKind};
use crate::error::ProviderError;

/// Why StartBuild did not start a build.
#[derive(Debug)]
pub enum StartFailure {
    /// The account's concurrent-build quota (and its queue) is full: try again later.
    AccountLimit(String),
    /// Anything else: answer FAILED with this text.
    Other(String),
}

fn text<E: ProvideErrorMetadata>(e: &E, fallback: String) -> String {
    match (e.code(), e.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => fallback,
    }
}

/// Starts the build; returns its id.
pub async fn start_build(client: &Client, req: &BuildRequest) -> Result<String, StartFailure> {
    start_build_queued(client, req, None).await
}

/// Starts the build, allowed to wait in CodeBuild's queue at most `queued_minutes`
/// (`queuedTimeoutInMinutesOverride`, 5 to 480); returns its id.
pub async fn start_build_queued(
    client: &Client,
    req: &BuildRequest,
    queued_minutes: Option<u32>,
) -> Result<String, StartFailure> {
    let mut call = client
        .start_build()
        .project_name(&req.project_name)
        .buildspec_override(&req.buildspec)
        .source_type_override(SourceType::from(req.source_type))
        .set_source_location_override(req.source_location.clone())
        .set_source_version(req.source_version.clone())
        .timeout_in_minutes_override(i32::try_from(req.timeout_minutes).unwrap_or(i32::MAX))
        .idempotency_token(&req.idempotency_token)
        .set_queued_timeout_in_minutes_override(
            queued_minutes.map(|m| i32::try_from(m).unwrap_or(i32::MAX)),
        );
    for v in &req.variables {
        let kind = match v.kind {
            VariableKind::Plaintext => EnvironmentVariableType::Plaintext,
            VariableKind::SecretsManager => EnvironmentVariableType::SecretsManager,
            VariableKind::ParameterStore => EnvironmentVariableType::ParameterStore,
        };
        let var = EnvironmentVariable::builder()
            .name(&v.name)
            .value(&v.value)
            .r#type(kind)
            .build()
            .map_err(|e| StartFailure::Other(format!("environment variable {}: {e}", v.name)))?;
        call = call.environment_variables_override(var);
    }
    if let Some(group) = &req.log_group_name {
        let cw = CloudWatchLogsConfig::builder()
            .status(LogsConfigStatusType::Enabled)
            .group_name(group)
            .build()
            .map_err(|e| StartFailure::Other(format!("logs configuration: {e}")))?;
        call = call.logs_config_override(LogsConfig::builder().cloud_watch_logs(cw).build());
    }
    match call.send().await {
        Ok(out) => out
            .build_value()
            .and_then(|b| b.id())
            .map(str::to_string)
            .ok_or_else(|| StartFailure::Other("StartBuild returned no build id".into())),
        Err(e) => {
            let fallback = aws_sdk_codebuild::error::DisplayErrorContext(&e).to_string();
            match e.as_service_error() {
                Some(StartBuildError::AccountLimitExceededException(se)) => {
                    Err(StartFailure::AccountLimit(text(se, fallback)))
                }
                Some(se) => Err(StartFailure::Other(text(se, fallback))),
                None => Err(StartFailure::Other(fallback)),
            }
        }
    }
}

/// The build `build_id` (an id `project:uuid`, or its ARN) as CodeBuild reports it, in the
/// shape of a build-state event, or `None` when CodeBuild has no such build.
pub async fn build_state(
    client: &Client,
    build_id: &str,
) -> Result<Option<crate::event::BuildStateChange>, ProviderError> {
    let id = build_id
        .rsplit_once(":build/")
        .map_or(build_id, |(_, id)| id);
    let out = client
        .batch_get_builds()
        .ids(id)
        .send()
        .await
        .map_err(|e| ProviderError::Aws {
            operation: "CodeBuild BatchGetBuilds",
            message: aws_sdk_codebuild::error::DisplayErrorContext(&e).to_string(),
        })?;
    let Some(build) = out
        .builds()
        .iter()
        .find(|b| b.id() == Some(id) || b.arn() == Some(build_id))
    else {
        return Ok(None);
    };
    Ok(Some(crate::event::BuildStateChange {
        status: build
            .build_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        build_id: build.arn().or(build.id()).unwrap_or(build_id).to_string(),
        project_name: build.project_name().unwrap_or_default().to_string(),
        environment: build
            .environment()
            .map(|env| env.environment_variables())
            .unwrap_or_default()
            .iter()
            .map(|v| (v.name().to_string(), v.value().to_string()))
            .collect(),
        phases: build
            .phases()
            .iter()
            .map(|p| crate::event::Phase {
                phase_type: p
                    .phase_type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default(),
                status: p.phase_status().map(|s| s.as_str().to_string()),
                context: p
                    .contexts()
                    .iter()
                    .filter_map(|c| c.message())
                    .find(|m| !m.trim().is_empty() && *m != ": ")
                    .map(str::to_string),
            })
            .collect(),
        log_link: build.logs().and_then(|l| l.deep_link()).map(str::to_string),
    }))
}

/// The project named `name` as BatchGetProjects describes it (its tags), or `None` when
/// CodeBuild does not know it.
pub async fn project_info(
    client: &Client,
    name: &str,
) -> Result<Option<crate::ownership::ProjectInfo>, ProviderError> {
    let out = client
        .batch_get_projects()
        .names(name)
        .send()
        .await
        .map_err(|e| ProviderError::Aws {
            operation: "CodeBuild BatchGetProjects",
            message: aws_sdk_codebuild::error::DisplayErrorContext(&e).to_string(),
        })?;
    Ok(out
        .projects()
        .iter()
        .find(|p| p.name() == Some(name) || p.arn() == Some(name))
        .map(|p| crate::ownership::ProjectInfo {
            tags: p
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().to_string(),
                        t.value().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
        }))
}
