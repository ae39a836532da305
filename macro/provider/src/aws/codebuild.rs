//! CodeBuild calls: StartBuild, and reading a build's environment.

use aws_sdk_codebuild::Client;
use aws_sdk_codebuild::error::ProvideErrorMetadata;
use aws_sdk_codebuild::operation::start_build::StartBuildError;
use aws_sdk_codebuild::types::{
    CloudWatchLogsConfig, EnvironmentVariable, EnvironmentVariableType, LogsConfig,
    LogsConfigStatusType, SourceType,
};

use crate::build::{BuildRequest, VariableKind};
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

/// The environment variables a build was started with (name, value).
pub async fn build_environment(
    client: &Client,
    build_id: &str,
) -> Result<Vec<(String, String)>, ProviderError> {
    let out = client
        .batch_get_builds()
        .ids(build_id)
        .send()
        .await
        .map_err(|e| ProviderError::Aws {
            operation: "CodeBuild BatchGetBuilds",
            message: aws_sdk_codebuild::error::DisplayErrorContext(&e).to_string(),
        })?;
    Ok(out
        .builds()
        .iter()
        .flat_map(|b| b.environment())
        .flat_map(|env| env.environment_variables())
        .map(|v| (v.name().to_string(), v.value().to_string()))
        .collect())
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
