//! CloudFormation reads of the requesting stack, for the gate: the resource as CloudFormation
//! records it, the stack's processed template, its parameters and its resources' physical
//! IDs. Read-only: the provider never changes a stack.

use std::collections::BTreeMap;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types::TemplateStage;

use crate::error::ProviderError;

/// One resource as `DescribeStackResource` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StackResource {
    /// The stack's unique id (ARN).
    pub stack_id: String,
    /// The resource's type, e.g. `Custom::ContainerImageBuild`.
    pub resource_type: String,
    /// Its status, e.g. `UPDATE_IN_PROGRESS`.
    pub status: String,
    /// Its physical id (empty while a create has none yet).
    pub physical_id: String,
}

/// The stack itself, as `DescribeStacks` and `ListStackResources` report it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StackState {
    /// The stack's status, e.g. `UPDATE_ROLLBACK_IN_PROGRESS`.
    pub status: String,
    /// Parameter values as the stack holds them (`****` for NoEcho ones).
    pub parameters: BTreeMap<String, String>,
    /// Logical id to physical id of every resource that has one.
    pub physical_ids: BTreeMap<String, String>,
    /// Logical id to resource type.
    pub resource_types: BTreeMap<String, String>,
}

fn failure<E: ProvideErrorMetadata>(operation: &'static str, e: &E) -> ProviderError {
    ProviderError::Aws {
        operation,
        message: match (e.code(), e.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.to_string(),
            _ => "no error code".into(),
        },
    }
}

/// Whether an error means the stack or resource does not exist: CloudFormation answers
/// `ValidationError` "Stack ... does not exist" / "Resource ... does not exist for stack".
fn is_not_found<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ValidationError") && e.message().is_some_and(|m| m.contains("does not exist"))
}

/// `DescribeStackResource` of `logical_id` in the stack `stack_id` (its ARN); `None` when
/// the stack or the resource does not exist.
pub async fn stack_resource(
    client: &Client,
    stack_id: &str,
    logical_id: &str,
) -> Result<Option<StackResource>, ProviderError> {
    let out = match client
        .describe_stack_resource()
        .stack_name(stack_id)
        .logical_resource_id(logical_id)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            let e = e.into_service_error();
            if is_not_found(&e) {
                return Ok(None);
            }
            return Err(failure("CloudFormation DescribeStackResource", &e));
        }
    };
    Ok(out.stack_resource_detail().map(|d| StackResource {
        stack_id: d.stack_id().unwrap_or_default().to_string(),
        resource_type: d.resource_type().unwrap_or_default().to_string(),
        status: d
            .resource_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        physical_id: d.physical_resource_id().unwrap_or_default().to_string(),
    }))
}

/// The stack's processed template (after every transform), as CloudFormation returns it:
/// JSON, or the text the stack was deployed with when it has no transform.
pub async fn processed_template(client: &Client, stack_id: &str) -> Result<String, ProviderError> {
    let out = client
        .get_template()
        .stack_name(stack_id)
        .template_stage(TemplateStage::Processed)
        .send()
        .await
        .map_err(|e| failure("CloudFormation GetTemplate", &e.into_service_error()))?;
    Ok(out.template_body().unwrap_or_default().to_string())
}

/// The stack's status, parameters and resources (`DescribeStacks`, then every page of
/// `ListStackResources`).
pub async fn stack_state(client: &Client, stack_id: &str) -> Result<StackState, ProviderError> {
    let out = client
        .describe_stacks()
        .stack_name(stack_id)
        .send()
        .await
        .map_err(|e| failure("CloudFormation DescribeStacks", &e.into_service_error()))?;
    let mut state = StackState::default();
    if let Some(stack) = out.stacks().first() {
        state.status = stack
            .stack_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        for p in stack.parameters() {
            if let (Some(k), Some(v)) = (p.parameter_key(), p.parameter_value()) {
                state.parameters.insert(k.to_string(), v.to_string());
            }
        }
    }
    let mut pages = client
        .list_stack_resources()
        .stack_name(stack_id)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page
            .map_err(|e| failure("CloudFormation ListStackResources", &e.into_service_error()))?;
        for r in page.stack_resource_summaries() {
            let Some(logical) = r.logical_resource_id() else {
                continue;
            };
            if let Some(physical) = r.physical_resource_id().filter(|p| !p.is_empty()) {
                state
                    .physical_ids
                    .insert(logical.to_string(), physical.to_string());
            }
            if let Some(kind) = r.resource_type() {
                state
                    .resource_types
                    .insert(logical.to_string(), kind.to_string());
            }
        }
    }
    Ok(state)
}
