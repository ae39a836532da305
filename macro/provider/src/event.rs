//! The two kinds of event the provider receives: CloudFormation custom-resource requests and
//! EventBridge `CodeBuild Build State Change` events.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::ProviderError;

/// A CloudFormation custom-resource request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnRequest {
    /// `Create`, `Update` or `Delete`.
    pub request_type: RequestType,
    /// The presigned URL the answer is PUT to.
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    /// The stack's ARN.
    pub stack_id: String,
    /// The request's id, echoed in the answer.
    pub request_id: String,
    /// The custom type name, e.g. `Custom::ContainerImageBuild`.
    pub resource_type: String,
    /// The resource's logical id.
    pub logical_resource_id: String,
    /// Present on Update and Delete.
    #[serde(default)]
    pub physical_resource_id: Option<String>,
    /// The resolved properties.
    #[serde(default)]
    pub resource_properties: Map<String, Value>,
    /// The previous properties, on Update only.
    #[serde(default)]
    pub old_resource_properties: Option<Map<String, Value>>,
    /// Set by the provider when it hands a trigger on to a later invocation of itself
    /// because CodeBuild's queue is full (see `retry`); never sent by CloudFormation.
    #[serde(default, rename = "CibQueueRetry")]
    pub queue_retry: Option<crate::flows::retry::QueueRetry>,
}

/// The CloudFormation request types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum RequestType {
    /// A new resource.
    Create,
    /// Changed properties.
    Update,
    /// Removal.
    Delete,
}

/// The parts of a `CodeBuild Build State Change` event the provider reads.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildStateChange {
    /// `build-status`: SUCCEEDED, FAILED, FAULT, STOPPED, TIMED_OUT or IN_PROGRESS.
    pub status: String,
    /// `build-id` (the build's ARN).
    pub build_id: String,
    /// `project-name`.
    pub project_name: String,
    /// The build's environment variables (name, value), when the event carries them.
    pub environment: Vec<(String, String)>,
    /// The phases with the status they ended in (an unfinished phase has none).
    pub phases: Vec<Phase>,
    /// The link to the build's log, when the event carries it.
    pub log_link: Option<String>,
}

/// One phase of a build.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    /// `phase-type`, e.g. `BUILD`.
    pub phase_type: String,
    /// `phase-status`, e.g. `FAILED`; `None` while it runs or when it never ended.
    pub status: Option<String>,
    /// The first `phase-context` message, if any.
    pub context: Option<String>,
}

/// An incoming event, classified.
#[derive(Debug, Clone)]
pub enum Incoming {
    /// A CloudFormation request (boxed: it is much larger than the other variants).
    Cfn(Box<CfnRequest>),
    /// A CodeBuild state change from EventBridge.
    BuildState(BuildStateChange),
}

/// Classifies and parses a raw event.
pub fn parse(event: &Value) -> Result<Incoming, ProviderError> {
    if event.get("detail-type").and_then(Value::as_str) == Some("CodeBuild Build State Change") {
        return parse_build_state(event).map(Incoming::BuildState);
    }
    if event.get("RequestType").is_some() {
        let request: CfnRequest = serde_json::from_value(event.clone())
            .map_err(|e| ProviderError::BadEvent(format!("CloudFormation request: {e}")))?;
        return Ok(Incoming::Cfn(Box::new(request)));
    }
    Err(ProviderError::BadEvent(
        "neither a CloudFormation custom-resource request nor a CodeBuild Build State Change"
            .into(),
    ))
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn parse_build_state(event: &Value) -> Result<BuildStateChange, ProviderError> {
    let detail = event
        .get("detail")
        .ok_or_else(|| ProviderError::BadEvent("build state change without `detail`".into()))?;
    let status = text(detail, "build-status").ok_or_else(|| {
        ProviderError::BadEvent("build state change without `build-status`".into())
    })?;
    let build_id = text(detail, "build-id").unwrap_or_default();
    let project_name = text(detail, "project-name").unwrap_or_default();
    let info = detail
        .get("additional-information")
        .cloned()
        .unwrap_or(Value::Null);
    let environment = info
        .pointer("/environment/environment-variables")
        .and_then(Value::as_array)
        .map(|vars| {
            vars.iter()
                .filter_map(|v| Some((text(v, "name")?, text(v, "value").unwrap_or_default())))
                .collect()
        })
        .unwrap_or_default();
    let phases = info
        .get("phases")
        .and_then(Value::as_array)
        .map(|phases| {
            phases
                .iter()
                .filter_map(|p| {
                    Some(Phase {
                        phase_type: text(p, "phase-type")?,
                        status: text(p, "phase-status"),
                        context: p
                            .get("phase-context")
                            .and_then(Value::as_array)
                            .and_then(|c| {
                                c.iter()
                                    .filter_map(Value::as_str)
                                    .find(|s| !s.trim().is_empty() && *s != ": ")
                            })
                            .map(str::to_string),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let log_link = info
        .pointer("/logs/deep-link")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(BuildStateChange {
        status,
        build_id,
        project_name,
        environment,
        phases,
        log_link,
    })
}

impl CfnRequest {
    /// The resource's physical id: the one CloudFormation sent (Update, Delete), else a new
    /// one made from the request (Create), the same for every delivery of it.
    pub fn physical_id(&self) -> String {
        match &self.physical_resource_id {
            Some(id) if !id.is_empty() => id.clone(),
            _ => crate::ids::new_physical_id(
                &self.stack_id,
                &self.logical_resource_id,
                &self.request_id,
            ),
        }
    }

    /// The identity its log lines carry.
    pub fn log_context(&self) -> crate::log::LogContext {
        crate::log::LogContext {
            stack_id: self.stack_id.clone(),
            logical_id: self.logical_resource_id.clone(),
            request_id: self.request_id.clone(),
        }
    }
}

impl BuildStateChange {
    /// The value of one environment variable of the build.
    pub fn env(&self, name: &str) -> Option<&str> {
        self.environment
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the build reached its end state without its final phase having answered:
    /// the post_build phase (which runs the responder) did not end in SUCCEEDED.
    pub fn needs_answer(&self) -> bool {
        const TERMINAL_FAILURES: [&str; 4] = ["FAILED", "FAULT", "STOPPED", "TIMED_OUT"];
        if !TERMINAL_FAILURES.contains(&self.status.as_str()) {
            return false;
        }
        !self
            .phases
            .iter()
            .any(|p| p.phase_type == "POST_BUILD" && p.status.as_deref() == Some("SUCCEEDED"))
    }

    /// Whether the build has ended (any status but IN_PROGRESS).
    pub fn is_finished(&self) -> bool {
        !self.status.is_empty() && self.status != "IN_PROGRESS"
    }

    /// The first phase that ended in something other than SUCCEEDED, with its context.
    pub fn failing_phase(&self) -> Option<&Phase> {
        self.phases
            .iter()
            .find(|p| p.status.as_deref().is_some_and(|s| s != "SUCCEEDED"))
            .or_else(|| {
                self.phases
                    .iter()
                    .rev()
                    .find(|p| p.status.is_none() && p.phase_type != "COMPLETED")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn state(status: &str, phases: Value) -> Value {
        json!({
            "detail-type": "CodeBuild Build State Change",
            "source": "aws.codebuild",
            "detail": {
                "build-status": status,
                "build-id": "arn:aws:codebuild:us-east-1:123456789012:build/p:1",
                "project-name": "p",
                "additional-information": {
                    "environment": {"environment-variables": [
                        {"name": "CIB_REQUEST_ID", "value": "r-1", "type": "PLAINTEXT"}
                    ]},
                    "phases": phases,
                    "logs": {"deep-link": "https://console/log"}
                }
            }
        })
    }

    #[test]
    fn a_timed_out_build_needs_an_answer() {
        let e = state(
            "TIMED_OUT",
            json!([
                {"phase-type": "INSTALL", "phase-status": "SUCCEEDED"},
                {"phase-type": "BUILD", "phase-status": "TIMED_OUT", "phase-context": [": "]},
            ]),
        );
        let Incoming::BuildState(s) = parse(&e).expect("parse") else {
            panic!("kind")
        };
        assert!(s.needs_answer());
        assert_eq!(s.env("CIB_REQUEST_ID"), Some("r-1"));
        assert_eq!(
            s.failing_phase().map(|p| p.phase_type.as_str()),
            Some("BUILD")
        );
        assert_eq!(s.log_link.as_deref(), Some("https://console/log"));
    }

    #[test]
    fn a_failed_build_whose_post_build_ran_was_already_answered() {
        let e = state(
            "FAILED",
            json!([
                {"phase-type": "BUILD", "phase-status": "FAILED"},
                {"phase-type": "POST_BUILD", "phase-status": "SUCCEEDED"},
            ]),
        );
        let Incoming::BuildState(s) = parse(&e).expect("parse") else {
            panic!("kind")
        };
        assert!(!s.needs_answer());
    }

    #[test]
    fn a_succeeded_build_needs_no_answer() {
        let Incoming::BuildState(s) = parse(&state("SUCCEEDED", json!([]))).expect("parse") else {
            panic!("kind")
        };
        assert!(!s.needs_answer());
    }

    #[test]
    fn an_unknown_event_is_refused() {
        assert!(parse(&json!({"hello": 1})).is_err());
    }
}
