//! The provider's on-failure destination: when an asynchronous invocation failed every
//! attempt (the provider crashed, timed out, or could not deliver its answer), Lambda sends
//! an invocation record to the failure responder (the same binary, another function). It
//! answers FAILED for the original CloudFormation request, so the stack does not wait for
//! the custom resource's whole `ServiceTimeout`.
//!
//! The record's shape (Lambda developer guide, "Capturing records of Lambda asynchronous
//! invocations", example invocation record:
//! https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html):
//! `version`, `timestamp`, `requestContext` {`requestId`, `functionArn`, `condition`
//! (`RetriesExhausted`, `EventAgeExceeded`, or `Success` for on-success records),
//! `approximateInvokeCount`}, `requestPayload` (the original event),
//! `responseContext` {`statusCode`, `executedVersion`, `functionError`}, `responsePayload`
//! (for an error: `errorMessage`, `errorType`, `stackTrace`).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::error::ProviderError;
use crate::event::{self, Incoming};
use crate::log::LogContext;
use crate::provider::Provider;
use crate::response::{CfnResponse, Status};

/// An invocation record, the parts the responder reads.
#[derive(Debug, Clone, PartialEq)]
pub struct InvocationRecord {
    /// Why the record was sent: `RetriesExhausted`, `EventAgeExceeded` or `Success`.
    pub condition: String,
    /// How many times the function was invoked with the event.
    pub invoke_count: Option<u64>,
    /// The function that failed (ARN, possibly with a qualifier).
    pub function_arn: Option<String>,
    /// The original event.
    pub request_payload: Value,
    /// `Handled` or `Unhandled`, when the function returned an error.
    pub function_error: Option<String>,
    /// The error's type, when the payload has one.
    pub error_type: Option<String>,
    /// The error's message, when the payload has one.
    pub error_message: Option<String>,
}

fn text(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
        .filter(|s| !s.is_empty())
}

/// The record, if `event` has the shape of one (`requestContext.condition`,
/// `requestPayload` and `responseContext`); `None` for any other event.
pub fn parse(event: &Value) -> Option<InvocationRecord> {
    let condition = text(event, "/requestContext/condition")?;
    let request_payload = event.get("requestPayload")?.clone();
    event.get("responseContext")?;
    let response = event.get("responsePayload").cloned().unwrap_or(Value::Null);
    Some(InvocationRecord {
        condition,
        invoke_count: event
            .pointer("/requestContext/approximateInvokeCount")
            .and_then(Value::as_u64),
        function_arn: text(event, "/requestContext/functionArn"),
        request_payload,
        function_error: text(event, "/responseContext/functionError"),
        error_type: text(&response, "/errorType"),
        error_message: text(&response, "/errorMessage").or_else(|| match &response {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            _ => None,
        }),
    })
}

/// The function's name from its ARN (`arn:...:function:NAME[:qualifier]`).
fn function_name(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    parts.find(|p| *p == "function")?;
    parts.next().filter(|n| !n.is_empty())
}

impl InvocationRecord {
    /// The FAILED reason: what the provider's last attempt said, and where its logs are.
    pub fn reason(&self) -> String {
        let attempts = self
            .invoke_count
            .map(|n| format!(" after {n} attempts"))
            .unwrap_or_default();
        let error = match (&self.error_type, &self.error_message) {
            (Some(t), Some(m)) => format!("{t}: {m}"),
            (None, Some(m)) => m.clone(),
            (Some(t), None) => t.clone(),
            (None, None) => self
                .function_error
                .clone()
                .map(|f| format!("{f} function error"))
                .unwrap_or_else(|| "no error message".into()),
        };
        let logs = self
            .function_arn
            .as_deref()
            .and_then(function_name)
            .map(|n| format!("; logs: /aws/lambda/{n}"))
            .unwrap_or_default();
        format!(
            "The ContainerImageBuild provider gave up on this request ({}{attempts}): {error}{logs}",
            self.condition
        )
    }
}

impl Provider {
    /// Answers FAILED for the CloudFormation request inside a failure record. Records of
    /// other events (build-state changes, unknown events) and on-success records are
    /// logged and left alone.
    pub(crate) async fn handle_failure_record(
        &self,
        record: &InvocationRecord,
    ) -> Result<Value, ProviderError> {
        if record.condition == "Success" {
            return Ok(json!({"action": "ignored", "why": "a success record"}));
        }
        let request = match event::parse(&record.request_payload) {
            Ok(Incoming::Cfn(request)) => request,
            Ok(Incoming::BuildState(state)) => {
                LogContext::default().error(
                    "the provider failed on a build-state event; nothing to answer from here",
                    json!({"buildId": state.build_id, "reason": record.reason()}),
                );
                return Ok(json!({"action": "ignored", "why": "not a CloudFormation request"}));
            }
            Err(e) => {
                LogContext::default().error(
                    "failure record of an event that is not a CloudFormation request",
                    json!({"error": e.to_string(), "reason": record.reason()}),
                );
                return Ok(json!({"action": "ignored", "why": "not a CloudFormation request"}));
            }
        };
        let log = request.log_context();
        let physical_id = request.physical_id();
        let response = CfnResponse {
            status: Status::Failed,
            reason: record.reason(),
            physical_resource_id: physical_id,
            stack_id: request.stack_id.clone(),
            request_id: request.request_id.clone(),
            logical_resource_id: request.logical_resource_id.clone(),
            data: BTreeMap::new(),
        };
        self.answer(&log, &request.response_url, response).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example invocation record of the Lambda developer guide (see the module doc).
    const DOCUMENTED: &str = r#"{
        "version": "1.0",
        "timestamp": "2019-11-14T18:16:05.568Z",
        "requestContext": {
            "requestId": "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
            "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:my-function:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3
        },
        "requestPayload": {
            "ORDER_IDS": [
                "9e07af03-ce31-4ff3-xmpl-36dce652cb4f",
                "637de236-e7b2-464e-xmpl-baf57f86bb53",
                "a81ddca6-2c35-45c7-xmpl-c3a03a31ed15"
            ]
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled"
        },
        "responsePayload": {
            "errorMessage": "RequestId: e4b46cbf-b738-xmpl-8880-a18cdf61200e Process exited before completing request"
        }
    }"#;

    #[test]
    fn the_documented_record_is_recognised() {
        let v: Value = serde_json::from_str(DOCUMENTED).expect("json");
        let r = parse(&v).expect("a record");
        assert_eq!(r.condition, "RetriesExhausted");
        assert_eq!(r.invoke_count, Some(3));
        assert_eq!(r.function_error.as_deref(), Some("Unhandled"));
        assert!(r.request_payload.get("ORDER_IDS").is_some());
        assert_eq!(
            r.reason(),
            "The ContainerImageBuild provider gave up on this request (RetriesExhausted after 3 \
             attempts): RequestId: e4b46cbf-b738-xmpl-8880-a18cdf61200e Process exited before \
             completing request; logs: /aws/lambda/my-function"
        );
    }

    #[test]
    fn other_events_are_not_records() {
        assert!(parse(&json!({"RequestType": "Create"})).is_none());
        assert!(parse(&json!({"detail-type": "CodeBuild Build State Change"})).is_none());
        assert!(parse(&json!({"requestContext": {"condition": "RetriesExhausted"}})).is_none());
    }
}
