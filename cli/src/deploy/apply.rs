//! Applying a template to a stack: change set, summary, execute, follow the events.
//! Shared by `cib deploy` and `cib bootstrap`.

use std::collections::{BTreeMap, HashSet};
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::progress::{self, Tracker};
use super::summary;
use crate::aws::Clients;
use crate::aws::cfn::{self, ChangeSetOutcome, ChangeSetRequest, StackInfo, TemplateSource};

/// What to apply.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    /// The stack.
    pub stack_name: &'a str,
    /// The template.
    pub template: &'a TemplateSource,
    /// Parameter values.
    pub parameters: &'a BTreeMap<String, String>,
    /// How many resources the template has (for the progress display).
    pub resource_count: usize,
    /// Stop after the summary.
    pub execute: bool,
    /// Time between two looks at the stack.
    pub poll: Duration,
}

/// How applying ended, when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Nothing to change (the empty change set was deleted).
    NoChanges,
    /// The change set was created and left for review (`--no-execute`).
    Created {
        /// Its name.
        change_set: String,
    },
    /// Executed, and the stack settled successfully.
    Done,
}

/// The existing stack, or `None`; a stack that cannot be updated is an error saying what to do.
pub async fn existing_stack(clients: &Clients, name: &str) -> Result<Option<StackInfo>, String> {
    let stack = cfn::stack(&clients.cfn, name).await?;
    match stack {
        Some(s) if s.status == "ROLLBACK_COMPLETE" || s.status == "ROLLBACK_FAILED" => {
            Err(format!(
                "stack {name} is {} after a failed create: delete it (aws cloudformation delete-stack --stack-name {name}) and deploy again",
                s.status
            ))
        }
        Some(s) if s.status == "REVIEW_IN_PROGRESS" => Ok(None),
        Some(s) if !progress::is_settled(&s.status) => Err(format!(
            "stack {name} is busy ({}); wait for it to settle",
            s.status
        )),
        other => Ok(other),
    }
}

/// Creates the change set, prints its summary, executes it and follows the stack until it
/// settles. A failure names the first failing resource and its reason in full (for an image
/// build, its log link first).
pub async fn apply(clients: &Clients, plan: &Plan<'_>) -> Result<Applied, String> {
    let existing = existing_stack(clients, plan.stack_name).await?;
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let change_set = format!("cib-{millis}-{}", std::process::id());
    let request = ChangeSetRequest {
        stack_name: plan.stack_name,
        change_set_name: &change_set,
        create: existing.is_none(),
        template: plan.template,
        parameters: plan.parameters,
    };
    let changes = match cfn::create_change_set(&clients.cfn, &request, plan.poll).await? {
        ChangeSetOutcome::NoChanges => return Ok(Applied::NoChanges),
        ChangeSetOutcome::Ready(changes) => changes,
    };
    print!("{}", summary::render(plan.stack_name, &changes));
    let _ = std::io::stdout().flush();
    if !plan.execute {
        return Ok(Applied::Created { change_set });
    }
    // Events already there belong to earlier operations.
    let known: HashSet<String> = cfn::new_events(&clients.cfn, plan.stack_name, &HashSet::new())
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect();
    cfn::execute_change_set(&clients.cfn, plan.stack_name, &change_set).await?;
    follow(clients, plan, known).await?;
    Ok(Applied::Done)
}

/// Follows the stack's events until it settles; an error when it did not succeed.
async fn follow(
    clients: &Clients,
    plan: &Plan<'_>,
    mut known: HashSet<String>,
) -> Result<(), String> {
    let started = Instant::now();
    let live = std::io::stderr().is_terminal();
    let mut tracker = Tracker::new(plan.resource_count);
    loop {
        let events = cfn::new_events(&clients.cfn, plan.stack_name, &known).await?;
        let mut err = std::io::stderr().lock();
        for event in &events {
            known.insert(event.id.clone());
            tracker.apply(event);
            if live {
                let _ = write!(err, "\r\x1b[2K");
            }
            let _ = writeln!(err, "{}", progress::event_line(event));
        }
        let status_line = tracker.status_line(started.elapsed());
        if live {
            let _ = write!(err, "\r\x1b[2K{status_line}");
        }
        let _ = err.flush();
        drop(err);
        let stack = cfn::stack(&clients.cfn, plan.stack_name)
            .await?
            .ok_or_else(|| format!("stack {} disappeared", plan.stack_name))?;
        if progress::is_settled(&stack.status) {
            let mut err = std::io::stderr().lock();
            if live {
                let _ = writeln!(err);
            }
            let _ = writeln!(err, "{status_line}");
            let _ = writeln!(err, "stack {} is {}", plan.stack_name, stack.status);
            if progress::is_success(&stack.status) {
                return Ok(());
            }
            return Err(match tracker.first_failure() {
                Some(f) => f.report(),
                None => format!(
                    "stack {} ended as {}{}",
                    plan.stack_name,
                    stack.status,
                    stack.reason.map(|r| format!(": {r}")).unwrap_or_default()
                ),
            });
        }
        tokio::time::sleep(plan.poll).await;
    }
}
