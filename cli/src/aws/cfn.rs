//! CloudFormation: stacks, change sets and events as plain data.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{Capability, ChangeSetType, Parameter};

use super::describe;

/// A stack as `DescribeStacks` shows it.
#[derive(Debug, Clone, Default)]
pub struct StackInfo {
    /// The stack's id (its ARN).
    pub stack_id: String,
    /// `CREATE_COMPLETE`, `UPDATE_ROLLBACK_COMPLETE`, ...
    pub status: String,
    /// Why it has that status, when CloudFormation says.
    pub reason: Option<String>,
    /// Output key to value.
    pub outputs: BTreeMap<String, String>,
    /// Parameter key to value.
    pub parameters: BTreeMap<String, String>,
}

/// One resource of a stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackResource {
    /// Logical id.
    pub logical_id: String,
    /// Resource type.
    pub resource_type: String,
    /// Physical id.
    pub physical_id: String,
}

/// One stack event, oldest-first order is the caller's business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackEvent {
    /// Unique event id.
    pub id: String,
    /// Logical id of the resource (the stack's own name for stack events).
    pub logical_id: String,
    /// Resource type (`AWS::CloudFormation::Stack` for the stack itself).
    pub resource_type: String,
    /// Status, e.g. `CREATE_IN_PROGRESS`.
    pub status: String,
    /// Status reason, when there is one.
    pub reason: Option<String>,
}

/// One change of a change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `Add`, `Modify`, `Remove`, ...
    pub action: String,
    /// Logical id.
    pub logical_id: String,
    /// Resource type.
    pub resource_type: String,
    /// `True`, `False`, `Conditional` when the change replaces the resource.
    pub replacement: Option<String>,
}

/// Where the template of a change set comes from.
#[derive(Debug, Clone)]
pub enum TemplateSource {
    /// The body itself (at most 51,200 bytes).
    Body(String),
    /// An S3 URL of the uploaded template.
    Url(String),
}

/// A change set once CloudFormation has computed it.
#[derive(Debug, Clone)]
pub enum ChangeSetOutcome {
    /// Ready to execute, with its changes.
    Ready(Vec<Change>),
    /// CloudFormation found nothing to change.
    NoChanges,
}

/// The stack, or `None` when it does not exist (or only its deleted ghost does).
pub async fn stack(client: &Client, name: &str) -> Result<Option<StackInfo>, String> {
    let result = client.describe_stacks().stack_name(name).send().await;
    let output = match result {
        Ok(output) => output,
        Err(err) => {
            let text = describe(&err);
            if text.contains("does not exist") {
                return Ok(None);
            }
            return Err(format!("cannot describe stack {name}: {text}"));
        }
    };
    let Some(stack) = output.stacks().first() else {
        return Ok(None);
    };
    let status = stack
        .stack_status()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    if status == "DELETE_COMPLETE" {
        return Ok(None);
    }
    Ok(Some(StackInfo {
        stack_id: stack.stack_id().unwrap_or_default().to_owned(),
        status,
        reason: stack.stack_status_reason().map(str::to_owned),
        outputs: stack
            .outputs()
            .iter()
            .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
            .collect(),
        parameters: stack
            .parameters()
            .iter()
            .filter_map(|p| {
                Some((
                    p.parameter_key()?.to_owned(),
                    p.parameter_value().unwrap_or_default().to_owned(),
                ))
            })
            .collect(),
    }))
}

/// The stack's current template body.
pub async fn template_body(client: &Client, name: &str) -> Result<String, String> {
    let output = client
        .get_template()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| format!("cannot read the template of {name}: {}", describe(&e)))?;
    Ok(output.template_body().unwrap_or_default().to_owned())
}

/// The template the stack last deployed, after every transform
/// (`GetTemplate`, `TemplateStage=Processed`): what the macro or `cib` expanded.
pub async fn processed_template(client: &Client, name: &str) -> Result<String, String> {
    let output = client
        .get_template()
        .stack_name(name)
        .template_stage(aws_sdk_cloudformation::types::TemplateStage::Processed)
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot read the deployed template of {name}: {}",
                describe(&e)
            )
        })?;
    Ok(output.template_body().unwrap_or_default().to_owned())
}

/// Every resource of the stack (`ListStackResources`, all pages: `DescribeStackResources`
/// answers only the first 100).
pub async fn all_resources(client: &Client, name: &str) -> Result<Vec<StackResource>, String> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_stack_resources()
            .stack_name(name)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| format!("cannot list the resources of {name}: {}", describe(&e)))?;
        out.extend(
            page.stack_resource_summaries()
                .iter()
                .map(|r| StackResource {
                    logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
                    resource_type: r.resource_type().unwrap_or_default().to_owned(),
                    physical_id: r.physical_resource_id().unwrap_or_default().to_owned(),
                }),
        );
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// The stack's resources.
pub async fn resources(client: &Client, name: &str) -> Result<Vec<StackResource>, String> {
    let output = client
        .describe_stack_resources()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| format!("cannot list the resources of {name}: {}", describe(&e)))?;
    Ok(output
        .stack_resources()
        .iter()
        .map(|r| StackResource {
            logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
            resource_type: r.resource_type().unwrap_or_default().to_owned(),
            physical_id: r.physical_resource_id().unwrap_or_default().to_owned(),
        })
        .collect())
}

/// What one change set is made of.
#[derive(Debug, Clone)]
pub struct ChangeSetRequest<'a> {
    /// The stack.
    pub stack_name: &'a str,
    /// The change set's name.
    pub change_set_name: &'a str,
    /// Create a new stack, or update the existing one.
    pub create: bool,
    /// The template.
    pub template: &'a TemplateSource,
    /// Parameter values.
    pub parameters: &'a BTreeMap<String, String>,
}

/// Creates a change set and waits until CloudFormation has computed it; an empty one is
/// deleted and reported as [`ChangeSetOutcome::NoChanges`].
pub async fn create_change_set(
    client: &Client,
    request: &ChangeSetRequest<'_>,
    poll: Duration,
) -> Result<ChangeSetOutcome, String> {
    let mut call = client
        .create_change_set()
        .stack_name(request.stack_name)
        .change_set_name(request.change_set_name)
        .change_set_type(if request.create {
            ChangeSetType::Create
        } else {
            ChangeSetType::Update
        })
        .capabilities(Capability::CapabilityIam)
        .capabilities(Capability::CapabilityNamedIam)
        .capabilities(Capability::CapabilityAutoExpand);
    call = match request.template {
        TemplateSource::Body(body) => call.template_body(body),
        TemplateSource::Url(url) => call.template_url(url),
    };
    for (key, value) in request.parameters {
        call = call.parameters(
            Parameter::builder()
                .parameter_key(key)
                .parameter_value(value)
                .build(),
        );
    }
    if let Err(e) = call.send().await {
        let text = describe(&e);
        if is_no_change(&text) {
            return Ok(ChangeSetOutcome::NoChanges);
        }
        return Err(format!(
            "cannot create a change set for {}: {text}",
            request.stack_name
        ));
    }
    loop {
        let described = client
            .describe_change_set()
            .stack_name(request.stack_name)
            .change_set_name(request.change_set_name)
            .send()
            .await
            .map_err(|e| format!("cannot describe the change set: {}", describe(&e)))?;
        let status = described
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default();
        let reason = described.status_reason().unwrap_or_default().to_owned();
        match status.as_str() {
            "CREATE_COMPLETE" => {
                let changes: Vec<Change> = described
                    .changes()
                    .iter()
                    .filter_map(|c| c.resource_change())
                    .map(|r| Change {
                        action: r
                            .action()
                            .map(|a| a.as_str().to_owned())
                            .unwrap_or_default(),
                        logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
                        resource_type: r.resource_type().unwrap_or_default().to_owned(),
                        replacement: r.replacement().map(|x| x.as_str().to_owned()),
                    })
                    .collect();
                if changes.is_empty() && !request.create {
                    delete_change_set(client, request).await?;
                    return Ok(ChangeSetOutcome::NoChanges);
                }
                return Ok(ChangeSetOutcome::Ready(changes));
            }
            "FAILED" if is_no_change(&reason) => {
                delete_change_set(client, request).await?;
                return Ok(ChangeSetOutcome::NoChanges);
            }
            "FAILED" => return Err(format!("the change set failed: {reason}")),
            _ => tokio::time::sleep(poll).await,
        }
    }
}

/// CloudFormation's ways of saying a change set has nothing in it.
fn is_no_change(reason: &str) -> bool {
    reason.contains("didn't contain changes") || reason.contains("No updates are to be performed")
}

/// Deletes a change set.
pub async fn delete_change_set(
    client: &Client,
    request: &ChangeSetRequest<'_>,
) -> Result<(), String> {
    client
        .delete_change_set()
        .stack_name(request.stack_name)
        .change_set_name(request.change_set_name)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| format!("cannot delete the empty change set: {}", describe(&e)))
}

/// Executes a computed change set.
pub async fn execute_change_set(
    client: &Client,
    stack: &str,
    change_set: &str,
) -> Result<(), String> {
    client
        .execute_change_set()
        .stack_name(stack)
        .change_set_name(change_set)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| format!("cannot execute the change set: {}", describe(&e)))
}

/// The stack's events newer than any in `known`, oldest first; pages are read only until
/// a known event shows up.
pub async fn new_events(
    client: &Client,
    stack: &str,
    known: &std::collections::HashSet<String>,
) -> Result<Vec<StackEvent>, String> {
    let mut events = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let output = client
            .describe_stack_events()
            .stack_name(stack)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| format!("cannot read the events of {stack}: {}", describe(&e)))?;
        let mut reached_known = false;
        for e in output.stack_events() {
            let id = e.event_id().unwrap_or_default().to_owned();
            if known.contains(&id) {
                reached_known = true;
                break;
            }
            events.push(StackEvent {
                id,
                logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
                resource_type: e.resource_type().unwrap_or_default().to_owned(),
                status: e
                    .resource_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                reason: e.resource_status_reason().map(str::to_owned),
            });
        }
        token = output.next_token().map(str::to_owned);
        if reached_known || token.is_none() {
            events.reverse();
            return Ok(events);
        }
    }
}
