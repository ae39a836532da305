//! The gate every request passes before the provider acts on it.
//!
//! The provider is shared by every stack of the account and region, and anyone who deploys
//! a stack may invoke it with an event of their own. So an event proves nothing by itself:
//!
//! 1. [`Provider::verify_request`], for every CloudFormation request before anything else:
//!    the response URL is CloudFormation's response bucket of this region, and
//!    CloudFormation confirms the stack, the resource, its type, that it waits for this
//!    answer, and its physical id ([`identity`]). A refused request is logged (`"refused"`
//!    field) and neither answered nor acted on.
//! 2. [`Provider::verify_content`], before a flow starts a build or writes to a registry:
//!    the request's properties are what the stack's own template says, resolved from the
//!    stack ([`stack`], [`content`]). Answers from an image that already exists need only
//!    step 1: they start and write nothing.

pub mod content;
pub mod identity;
pub mod repository;
pub mod response_url;
pub mod stack;
pub mod verified;

use serde_json::Value;

use crate::aws::{cloudformation, state};
use crate::error::ProviderError;
use crate::event::CfnRequest;
use crate::log::LogContext;
use crate::provider::Provider;

/// Why the gate did not let a request through.
#[derive(Debug)]
pub enum Refusal {
    /// AWS does not confirm the request: it is not acted on and not answered.
    Refused {
        /// Which check refused it (`response-url`, `stack-resource`, `template`).
        check: &'static str,
        /// Why.
        reason: String,
    },
    /// AWS could not be asked (throttled past retries, denied): the invocation fails, so
    /// Lambda retries it and, failing that, the failure responder answers.
    Unavailable(ProviderError),
}

impl Refusal {
    fn refused(check: &'static str, reason: String) -> Refusal {
        Refusal::Refused { check, reason }
    }

    /// The invocation's result for this refusal: a logged summary, or the error that fails
    /// the invocation.
    pub fn outcome(self, log: &LogContext) -> Result<Value, ProviderError> {
        match self {
            Refusal::Refused { check, reason } => Ok(log.refused(check, &reason)),
            Refusal::Unavailable(e) => {
                log.error(
                    "cannot verify the request with AWS",
                    serde_json::json!({"error": e.to_string()}),
                );
                Err(e)
            }
        }
    }
}

/// The request's stack ARN, parsed; a refusal when `StackId` is not one.
fn stack_arn(request: &CfnRequest) -> Result<identity::StackArn, Refusal> {
    identity::parse_stack_arn(&request.stack_id).ok_or_else(|| {
        Refusal::refused(
            "stack-resource",
            format!("StackId `{}` is not a stack ARN", request.stack_id),
        )
    })
}

impl Provider {
    /// Step 1: the request's response URL, stack and resource, as CloudFormation confirms
    /// them. Returns the stack's parsed ARN.
    pub async fn verify_request(
        &self,
        request: &CfnRequest,
    ) -> Result<identity::StackArn, Refusal> {
        if let Some(reason) = self.untrusted_response_url(&request.response_url) {
            return Err(Refusal::refused("response-url", reason));
        }
        stack_arn(request)?;
        let found = cloudformation::stack_resource(
            &self.clients.cloudformation,
            &request.stack_id,
            &request.logical_resource_id,
        )
        .await
        .map_err(Refusal::Unavailable)?;
        identity::judge(request, found.as_ref(), &self.clients.home_region)
            .map_err(|reason| Refusal::refused("stack-resource", reason))
    }

    /// Step 2: the request's properties are what the stack's own template says (resolved
    /// from the stack), so what runs and where it writes is the stack's choice.
    pub async fn verify_content(&self, request: &CfnRequest) -> Result<(), Refusal> {
        let arn = stack_arn(request)?;
        let cfn = &self.clients.cloudformation;
        let body = cloudformation::processed_template(cfn, &request.stack_id)
            .await
            .map_err(Refusal::Unavailable)?;
        let (template, _) = cib_engine::template::parse(body.as_bytes()).map_err(|e| {
            Refusal::refused(
                "template",
                format!("the stack's template cannot be read: {e}"),
            )
        })?;
        let state = cloudformation::stack_state(cfn, &request.stack_id)
            .await
            .map_err(Refusal::Unavailable)?;
        let resolved = stack::resolve_resource(
            &template,
            &request.logical_resource_id,
            &request.resource_type,
            &request.stack_id,
            &arn,
            &state,
        )
        .map_err(|reason| Refusal::refused("template", reason))?;
        let digest = verified::properties_digest(&request.resource_properties);
        let record = self.verified_record(request).await;
        let matched = content::compare(&resolved.properties, &request.resource_properties, &|i| {
            resolved.causes.get(i).cloned()
        });
        match matched {
            Ok(()) => {}
            // An update rollback sends the properties of the deploy before; whichever
            // template GetTemplate returns meanwhile, the gate verified those then.
            Err(_)
                if request.request_type == crate::event::RequestType::Update
                    && state.status == "UPDATE_ROLLBACK_IN_PROGRESS"
                    && record
                        .as_deref()
                        .is_some_and(|r| verified::holds(r, &digest)) => {}
            Err(reason) => return Err(Refusal::refused("template", reason)),
        }
        self.remember_verified(request, record.as_deref(), &digest)
            .await;
        Ok(())
    }

    /// The record of what the gate verified for this resource (none without a state table,
    /// or when it cannot be read: then only the template decides).
    async fn verified_record(&self, request: &CfnRequest) -> Option<String> {
        let table = self.settings.state_table.as_deref()?;
        let key = verified::record_key(&request.stack_id, &request.logical_resource_id);
        state::get_text(&self.clients.dynamodb, table, &key)
            .await
            .ok()
            .flatten()
    }

    /// Adds `digest` to the record (best effort: a failed write is logged; the template
    /// still decides every forward deploy).
    async fn remember_verified(&self, request: &CfnRequest, record: Option<&str>, digest: &str) {
        let Some(table) = self.settings.state_table.as_deref() else {
            return;
        };
        let key = verified::record_key(&request.stack_id, &request.logical_resource_id);
        let text = verified::remember(record, digest);
        if record == Some(text.as_str()) {
            return; // already the latest: a rebuild, a retry, a duplicate delivery
        }
        if let Err(e) = state::put_text(&self.clients.dynamodb, table, &key, &text).await {
            LogContext::default().warn(
                "cannot record the verified properties",
                serde_json::json!({"error": e.to_string()}),
            );
        }
    }
}
