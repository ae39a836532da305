//! Starting a build while CodeBuild's queue is full, for as long as the trigger's
//! `ServiceTimeout` allows, not just one Lambda invocation.
//!
//! `AccountLimitExceededException` means the account's concurrent builds for the compute
//! type are running and the queue (five times that quota) is full: "not yet". StartBuild is
//! retried with backoff inside the invocation; when the invocation's time runs short, the
//! provider invokes itself asynchronously with the original request and its state (when it
//! first saw the request, attempts so far) and returns without answering. It answers
//! FAILED only when less than CodeBuild's shortest queue timeout is left before the
//! trigger's `ServiceTimeout`. Each StartBuild sets `queuedTimeoutInMinutesOverride` to the
//! time left, so a build still queued when the stack gives up is dropped by CodeBuild.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::aws::codebuild::{self, StartFailure};
use crate::aws::invoke;
use crate::build_request::BuildRequest;
use crate::event::{CfnRequest, RequestType};
use crate::log::LogContext;
use crate::provider::Provider;

/// The event field that carries the retry state into the next invocation.
pub const RETRY_FIELD: &str = "CibQueueRetry";

/// CodeBuild's range for a build's queued timeout, in minutes: "between five minutes and
/// eight hours" (https://docs.aws.amazon.com/codebuild/latest/userguide/builds-working.html;
/// StartBuild `queuedTimeoutInMinutesOverride`).
pub const MIN_QUEUED_MINUTES: u64 = 5;
/// See [`MIN_QUEUED_MINUTES`].
pub const MAX_QUEUED_MINUTES: u64 = 480;

/// A custom resource's `ServiceTimeout` when the template gives none, and its upper bound
/// (1 to 3600 seconds; AWS-FACTS.md section 2).
pub const DEFAULT_SERVICE_TIMEOUT_SECONDS: u64 = 3600;

/// Time kept before the `ServiceTimeout` to deliver an answer.
pub const ANSWER_MARGIN_SECONDS: u64 = 60;

/// Time kept in hand before the Lambda's deadline for re-invoking or answering.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(30);

/// Longest pause between StartBuild attempts inside one invocation.
pub const MAX_BACKOFF: Duration = Duration::from_secs(120);

/// What the next invocation needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueRetry {
    /// When the provider first saw the request (epoch seconds).
    pub first_seen: u64,
    /// StartBuild attempts refused so far.
    pub attempt: u32,
}

/// Seconds since the epoch.
pub fn epoch_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// The trigger's `ServiceTimeout` in seconds (a string or number property; default and
/// cap 3600).
pub fn service_timeout_seconds(props: &Map<String, Value>) -> u64 {
    let value = match props.get("ServiceTimeout") {
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        Some(Value::Number(n)) => n.as_u64(),
        _ => None,
    };
    value
        .filter(|v| *v > 0)
        .unwrap_or(DEFAULT_SERVICE_TIMEOUT_SECONDS)
        .min(DEFAULT_SERVICE_TIMEOUT_SECONDS)
}

/// Seconds left for starting the build: until the `ServiceTimeout` counted from
/// `first_seen`, less the time kept to answer.
pub fn seconds_left(first_seen: u64, service_timeout: u64, now: u64) -> u64 {
    (first_seen + service_timeout).saturating_sub(ANSWER_MARGIN_SECONDS + now)
}

/// `queuedTimeoutInMinutesOverride` for `seconds_left`: whole minutes, within CodeBuild's
/// range.
pub fn queued_timeout_minutes(seconds_left: u64) -> u32 {
    let minutes = (seconds_left / 60).clamp(MIN_QUEUED_MINUTES, MAX_QUEUED_MINUTES);
    u32::try_from(minutes).unwrap_or(u32::MAX)
}

/// The StartBuild idempotency token of a request (`base`) started with queue timeout
/// `queued_minutes`: every parameter under one token stays the same.
pub fn token_for(base: &str, queued_minutes: u32) -> String {
    crate::ids::short_hash(&[base, &queued_minutes.to_string()])
}

/// The event for the next invocation: the request as CloudFormation sent it (the fields
/// the provider reads) and the retry state.
pub fn requeue_payload(request: &CfnRequest, state: QueueRetry) -> Value {
    let kind = match request.request_type {
        RequestType::Create => "Create",
        RequestType::Update => "Update",
        RequestType::Delete => "Delete",
    };
    let mut e = json!({
        "RequestType": kind,
        "ResponseURL": request.response_url,
        "StackId": request.stack_id,
        "RequestId": request.request_id,
        "ResourceType": request.resource_type,
        "LogicalResourceId": request.logical_resource_id,
        "ResourceProperties": request.resource_properties,
        RETRY_FIELD: {"firstSeen": state.first_seen, "attempt": state.attempt},
    });
    if let Some(p) = request.resource_properties.get("ServiceToken") {
        e["ServiceToken"] = p.clone();
    }
    if let Some(id) = &request.physical_resource_id {
        e["PhysicalResourceId"] = json!(id);
    }
    if let Some(old) = &request.old_resource_properties {
        e["OldResourceProperties"] = Value::Object(old.clone());
    }
    e
}

/// How starting the build ended.
#[derive(Debug)]
pub enum Started {
    /// The build's id.
    Build(String),
    /// Handed on to a later invocation; the summary to return.
    Requeued(Value),
    /// Answer FAILED with this reason.
    Failed(String),
}

impl Provider {
    /// StartBuild, retried while the queue is full and time is left (see the module doc).
    pub(crate) async fn start_while_time_left(
        &self,
        request: &CfnRequest,
        build: &BuildRequest,
        log: &LogContext,
        deadline: Instant,
    ) -> Started {
        let first_seen = request
            .queue_retry
            .map(|r| r.first_seen)
            .unwrap_or_else(epoch_seconds);
        let mut attempt = request.queue_retry.map(|r| r.attempt).unwrap_or(0);
        let timeout = service_timeout_seconds(&request.resource_properties);
        let mut backoff = self.settings.account_limit_backoff;
        loop {
            let queued = queued_timeout_minutes(seconds_left(first_seen, timeout, epoch_seconds()));
            // CodeBuild answers a parameter mismatch to a token repeated within five minutes
            // with another parameter, and the queue timeout shrinks with time: one token per
            // (request, queue timeout). A start repeated with the same values is still one
            // build; one made a minute later is found by the build marker instead.
            let this_start = BuildRequest {
                idempotency_token: token_for(&build.idempotency_token, queued),
                ..build.clone()
            };
            let msg = match codebuild::start_build_queued(
                &self.clients.codebuild,
                &this_start,
                Some(queued),
            )
            .await
            {
                Ok(id) => {
                    log.info(
                        "build started",
                        json!({"queuedTimeoutInMinutes": queued, "attempt": attempt + 1}),
                    );
                    return Started::Build(id);
                }
                Err(StartFailure::Other(msg)) => {
                    return Started::Failed(format!("CodeBuild StartBuild failed: {msg}"));
                }
                Err(StartFailure::AccountLimit(msg)) => msg,
            };
            attempt += 1;
            let left = seconds_left(first_seen, timeout, epoch_seconds());
            if left < MIN_QUEUED_MINUTES * 60 + backoff.as_secs() {
                return Started::Failed(format!(
                    "CodeBuild kept refusing the build for {} minutes ({attempt} attempts) \
                     because the account's concurrent builds for this compute type are running \
                     and its queue is full ({msg}); the trigger's ServiceTimeout of {timeout} s \
                     is nearly over. Raise the CodeBuild concurrency quota for this compute type \
                     or build fewer images at once (docs/provider.md, Build concurrency)",
                    epoch_seconds().saturating_sub(first_seen) / 60
                ));
            }
            if Instant::now() + backoff + DEADLINE_MARGIN > deadline {
                return self
                    .requeue(request, first_seen, attempt, left, &msg, log)
                    .await;
            }
            log.warn(
                "build queue full; retrying StartBuild",
                json!({"error": msg, "backoffMs": backoff.as_millis() as u64, "attempt": attempt,
                       "secondsLeft": left}),
            );
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    async fn requeue(
        &self,
        request: &CfnRequest,
        first_seen: u64,
        attempt: u32,
        left: u64,
        msg: &str,
        log: &LogContext,
    ) -> Started {
        let Some(function) = self.settings.function_name.as_deref() else {
            return Started::Failed(format!(
                "CodeBuild's build queue is full ({msg}) and the provider cannot hand the \
                 request on to a later invocation (AWS_LAMBDA_FUNCTION_NAME is not set)"
            ));
        };
        let state = QueueRetry {
            first_seen,
            attempt,
        };
        match invoke::invoke_async(
            &self.clients.lambda,
            function,
            &requeue_payload(request, state),
        )
        .await
        {
            Ok(()) => {
                log.warn(
                    "build queue full; handed the request on to a later invocation",
                    json!({"function": function, "attempt": attempt, "secondsLeft": left}),
                );
                Started::Requeued(json!({"action": "requeued", "attempt": attempt,
                                         "secondsLeft": left}))
            }
            Err(e) => Started::Failed(format!(
                "CodeBuild's build queue is full ({msg}) and re-invoking the provider to try \
                 again later failed: {e}"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queued_timeout_is_the_time_left_within_codebuilds_range() {
        let t0 = 1_700_000_000;
        assert_eq!(seconds_left(t0, 3000, t0), 2940);
        assert_eq!(queued_timeout_minutes(2940), 49);
        assert_eq!(queued_timeout_minutes(2999), 49, "rounded down");
        assert_eq!(queued_timeout_minutes(60), 5, "CodeBuild's minimum");
        assert_eq!(queued_timeout_minutes(100_000), 480, "CodeBuild's maximum");
        assert_eq!(seconds_left(t0, 3000, t0 + 4000), 0);
    }

    #[test]
    fn the_service_timeout_comes_from_the_properties() {
        let props = |v: Value| {
            let mut m = Map::new();
            m.insert("ServiceTimeout".into(), v);
            m
        };
        assert_eq!(service_timeout_seconds(&props(json!("2700"))), 2700);
        assert_eq!(service_timeout_seconds(&props(json!(1200))), 1200);
        assert_eq!(service_timeout_seconds(&props(json!("x"))), 3600);
        assert_eq!(service_timeout_seconds(&props(json!("9000"))), 3600);
        assert_eq!(service_timeout_seconds(&Map::new()), 3600);
    }
}
