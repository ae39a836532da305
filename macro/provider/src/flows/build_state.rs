//! The build-state flow: a `CodeBuild Build State Change` of one of our builds that ended
//! without its final phase answering is answered FAILED here, from CodeBuild's own record of
//! the build (never the event's).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::aws::codebuild;
use crate::error::ProviderError;
use crate::event::BuildStateChange;
use crate::log::LogContext;
use crate::provider::Provider;
use crate::response::{CfnResponse, Status};

impl Provider {
    pub(crate) async fn handle_build_state(
        &self,
        event: &BuildStateChange,
    ) -> Result<Value, ProviderError> {
        // The event names a build; everything else is read from CodeBuild: anyone who may
        // invoke the provider can write an event, and a build's variables are whatever its
        // starter set, so only CodeBuild's own record of the build is believed.
        if event.build_id.is_empty() {
            return Ok(json!({"action": "ignored", "why": "no build id"}));
        }
        let state = match codebuild::build_state(&self.clients.codebuild, &event.build_id).await {
            Ok(Some(build)) => build,
            Ok(None) => {
                return Ok(LogContext::default().refused(
                    "build-state",
                    &format!("CodeBuild has no build {}", event.build_id),
                ));
            }
            Err(e) => {
                LogContext::default().error(
                    "cannot read the build from CodeBuild",
                    json!({"buildId": event.build_id, "error": e.to_string()}),
                );
                return Err(e);
            }
        };
        if event.needs_answer() && !state.is_finished() {
            // The event says the build ended, CodeBuild says it runs: a forgery, or CodeBuild
            // has not caught up yet. Fail the invocation so Lambda asks again later.
            LogContext::default().refused(
                "build-state",
                &format!(
                    "the event says build {} ended {}, CodeBuild says {}",
                    event.build_id, event.status, state.status
                ),
            );
            return Err(ProviderError::BadEvent(format!(
                "build {} is {} in CodeBuild, not ended",
                event.build_id, state.status
            )));
        }
        let get = |name: &str| state.env(name).unwrap_or_default().to_string();
        let log = LogContext {
            stack_id: get("CIB_STACK_ID"),
            logical_id: get("CIB_LOGICAL_ID"),
            request_id: get("CIB_REQUEST_ID"),
        };
        // The event and BatchGetBuilds carry only the parameter's name; the URL is in SSM.
        let parameter = get("CIB_RESPONSE_PARAMETER");
        if parameter.is_empty() || log.request_id.is_empty() {
            return Ok(json!({"action": "ignored", "why": "not a ContainerImageBuild build"}));
        }
        if !state.needs_answer() {
            log.info(
                "build ended; its final phase already answered",
                json!({"buildId": state.build_id, "status": state.status}),
            );
            return Ok(json!({"action": "ignored", "why": "answered by the build"}));
        }
        let url = match self
            .stored_response_url(&state.project_name, &parameter, &log.stack_id)
            .await
        {
            Ok(url) => url,
            Err(why) => {
                log.error(
                    "no trusted response URL; not answering",
                    json!({"buildId": state.build_id, "why": why.0}),
                );
                return Ok(json!({"action": "ignored", "why": why.0}));
            }
        };
        let phase = state.failing_phase();
        let mut reason = format!("The image build ended {}", state.status);
        if let Some(p) = phase {
            reason.push_str(&format!(" in phase {}", p.phase_type));
            if let Some(c) = &p.context {
                reason.push_str(&format!(" ({c})"));
            }
        }
        reason.push_str(&format!(
            ". Build {}; log: {}",
            state.build_id,
            state
                .log_link
                .as_deref()
                .unwrap_or("see the CodeBuild console")
        ));
        let response = CfnResponse {
            status: Status::Failed,
            reason,
            physical_resource_id: get("CIB_PHYSICAL_ID"),
            stack_id: log.stack_id.clone(),
            request_id: log.request_id.clone(),
            logical_resource_id: log.logical_id.clone(),
            data: BTreeMap::new(),
        };
        let answered = self.answer(&log, &url, response).await?;
        self.delete_response_parameter(&parameter, &log).await;
        Ok(answered)
    }
}
