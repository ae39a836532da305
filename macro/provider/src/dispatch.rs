//! The dispatcher: every event the provider receives is classified here and handed to its
//! flow (`crate::flows`) after the gate (`crate::gate`) let it through. Flows never call
//! back into the dispatcher.

use std::time::Instant;

use serde_json::{Value, json};

use crate::error::ProviderError;
use crate::event::{self, CfnRequest, Incoming, RequestType};
use crate::flows::failure_destination;
use crate::log::LogContext;
use crate::provider::Provider;
use crate::response::{Status, answer_for};

/// The custom type of the image trigger.
pub const TRIGGER_TYPE: &str = "Custom::ContainerImageBuild";
/// The custom type of the template's replication resource.
pub const REPLICATION_TYPE: &str = "Custom::ContainerImageBuildReplication";

impl Provider {
    /// Handles one raw event. `deadline` is when the Lambda invocation ends.
    ///
    /// Returns a short summary of what was done. An error means no answer could be
    /// delivered (the invocation should fail, so Lambda retries it).
    pub async fn handle(&self, event: Value, deadline: Instant) -> Result<Value, ProviderError> {
        if let Some(record) = failure_destination::parse(&event) {
            return self.handle_failure_record(&record).await;
        }
        match event::parse(&event) {
            Ok(Incoming::Cfn(request)) => self.handle_cfn(&request, deadline).await,
            Ok(Incoming::BuildState(state)) => self.handle_build_state(&state).await,
            Err(e) => {
                LogContext::default().error("event not handled", json!({"error": e.to_string()}));
                Err(e)
            }
        }
    }

    async fn handle_cfn(
        &self,
        request: &CfnRequest,
        deadline: Instant,
    ) -> Result<Value, ProviderError> {
        let log = request.log_context();
        log.info(
            "request received",
            json!({"requestType": format!("{:?}", request.request_type),
                   "resourceType": request.resource_type,
                   "physicalResourceId": request.physical_resource_id}),
        );
        if let Err(refusal) = self.verify_request(request).await {
            return refusal.outcome(&log);
        }
        let physical_id = request.physical_id();
        match request.resource_type.as_str() {
            TRIGGER_TYPE if cib_trigger::index::is_index(&request.resource_properties) => {
                // Boxed: the index flow's registry calls make a deep future, and the
                // binary's handler future would otherwise exceed the layout depth limit.
                Box::pin(self.handle_index(request, &physical_id, &log)).await
            }
            TRIGGER_TYPE => {
                self.handle_trigger(request, &physical_id, &log, deadline)
                    .await
            }
            REPLICATION_TYPE => {
                self.handle_replication(request, &physical_id, &log, deadline)
                    .await
            }
            other => {
                let reason = format!(
                    "this provider handles {TRIGGER_TYPE} and {REPLICATION_TYPE}, not {other}"
                );
                let status = if request.request_type == RequestType::Delete {
                    Status::Success
                } else {
                    Status::Failed
                };
                self.answer(
                    &log,
                    &request.response_url,
                    answer_for(request, &physical_id, status, reason),
                )
                .await
            }
        }
    }
}
