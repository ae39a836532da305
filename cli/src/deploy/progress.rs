//! Following a stack's events: what is done, what is building, what failed. Pure: events
//! and the elapsed time in, text and a verdict out.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::aws::cfn::StackEvent;

/// The resource type of an image build trigger.
const IMAGE_TYPE: &str = "Custom::ContainerImageBuild";
/// The type CloudFormation uses for the stack's own events.
const STACK_TYPE: &str = "AWS::CloudFormation::Stack";

/// The first resource that failed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Logical id.
    pub logical_id: String,
    /// Resource type.
    pub resource_type: String,
    /// Status (`CREATE_FAILED`, ...).
    pub status: String,
    /// CloudFormation's reason (for an image build: the failing phase and its log link).
    pub reason: String,
}

/// The state of one stack operation, built from its events.
#[derive(Debug, Clone, Default)]
pub struct Tracker {
    total: usize,
    latest: BTreeMap<String, (String, String)>,
    first_failure: Option<Failure>,
}

impl Tracker {
    /// A tracker for an operation that touches `total` resources.
    pub fn new(total: usize) -> Tracker {
        Tracker {
            total,
            ..Tracker::default()
        }
    }

    /// Takes one event (oldest first).
    pub fn apply(&mut self, event: &StackEvent) {
        if event.resource_type == STACK_TYPE {
            return;
        }
        if self.first_failure.is_none() && event.status.ends_with("_FAILED") {
            let reason = event.reason.clone().unwrap_or_default();
            // "Resource creation cancelled" is a consequence of another failure, not a cause.
            if !reason.contains("cancelled") {
                self.first_failure = Some(Failure {
                    logical_id: event.logical_id.clone(),
                    resource_type: event.resource_type.clone(),
                    status: event.status.clone(),
                    reason,
                });
            }
        }
        self.latest.insert(
            event.logical_id.clone(),
            (event.resource_type.clone(), event.status.clone()),
        );
    }

    /// Resources whose last status is final.
    pub fn done(&self) -> usize {
        self.latest
            .values()
            .filter(|(_, status)| status.ends_with("_COMPLETE") || status.ends_with("_SKIPPED"))
            .count()
    }

    /// Image builds in flight: triggers whose last status is in progress.
    pub fn builds_in_flight(&self) -> Vec<&str> {
        self.latest
            .iter()
            .filter(|(_, (kind, status))| kind == IMAGE_TYPE && status.ends_with("_IN_PROGRESS"))
            .map(|(id, _)| id.as_str())
            .collect()
    }

    /// The first failure seen, if any.
    pub fn first_failure(&self) -> Option<&Failure> {
        self.first_failure.as_ref()
    }

    /// One status line: `[01:23] 5/12 resources done · building: ApiImage, WorkerImage`.
    pub fn status_line(&self, elapsed: Duration) -> String {
        let seconds = elapsed.as_secs();
        let mut line = format!(
            "[{:02}:{:02}] {}/{} resources done",
            seconds / 60,
            seconds % 60,
            self.done().min(self.total.max(self.done())),
            self.total.max(self.done())
        );
        let builds = self.builds_in_flight();
        if !builds.is_empty() {
            line.push_str(&format!(
                " · {} image build(s) in flight: {}",
                builds.len(),
                builds.join(", ")
            ));
        }
        line
    }
}

/// One event as a line of the log.
pub fn event_line(event: &StackEvent) -> String {
    let mut line = format!(
        "  {:<28} {:<40} {}",
        event.status, event.resource_type, event.logical_id
    );
    if let Some(reason) = event.reason.as_deref().filter(|r| !r.is_empty()) {
        line.push_str(&format!(" ({reason})"));
    }
    line
}

/// True when a stack status means the operation has ended (well or badly).
pub fn is_settled(status: &str) -> bool {
    !status.ends_with("_IN_PROGRESS") && status != "REVIEW_IN_PROGRESS"
}

/// True when a settled status means success.
pub fn is_success(status: &str) -> bool {
    matches!(
        status,
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(logical_id: &str, kind: &str, status: &str, reason: Option<&str>) -> StackEvent {
        StackEvent {
            id: format!("{logical_id}-{status}"),
            logical_id: logical_id.into(),
            resource_type: kind.into(),
            status: status.into(),
            reason: reason.map(str::to_owned),
        }
    }

    #[test]
    fn counts_done_resources_and_builds_in_flight() {
        let mut tracker = Tracker::new(4);
        tracker.apply(&event("stack", STACK_TYPE, "CREATE_IN_PROGRESS", None));
        tracker.apply(&event(
            "Repo",
            "AWS::ECR::Repository",
            "CREATE_IN_PROGRESS",
            None,
        ));
        tracker.apply(&event(
            "Repo",
            "AWS::ECR::Repository",
            "CREATE_COMPLETE",
            None,
        ));
        tracker.apply(&event("Api", IMAGE_TYPE, "CREATE_IN_PROGRESS", None));
        assert_eq!(tracker.done(), 1);
        assert_eq!(tracker.builds_in_flight(), vec!["Api"]);
        assert_eq!(
            tracker.status_line(Duration::from_secs(83)),
            "[01:23] 1/4 resources done · 1 image build(s) in flight: Api"
        );
        tracker.apply(&event("Api", IMAGE_TYPE, "CREATE_COMPLETE", None));
        assert!(tracker.builds_in_flight().is_empty());
        assert_eq!(tracker.done(), 2);
    }

    #[test]
    fn the_first_real_failure_is_kept_not_the_cancellations() {
        let mut tracker = Tracker::new(3);
        tracker.apply(&event(
            "Other",
            "AWS::SQS::Queue",
            "CREATE_FAILED",
            Some("Resource creation cancelled"),
        ));
        tracker.apply(&event(
            "Api",
            IMAGE_TYPE,
            "CREATE_FAILED",
            Some("build failed in BUILD: https://console.aws.amazon.com/codesuite/codebuild/logs"),
        ));
        tracker.apply(&event(
            "Later",
            "AWS::S3::Bucket",
            "CREATE_FAILED",
            Some("later"),
        ));
        let failure = tracker.first_failure().cloned();
        assert_eq!(failure.as_ref().map(|f| f.logical_id.as_str()), Some("Api"));
        assert!(failure.is_some_and(|f| f.reason.contains("codebuild/logs")));
    }

    #[test]
    fn settled_and_success_statuses() {
        assert!(!is_settled("CREATE_IN_PROGRESS"));
        assert!(!is_settled("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"));
        assert!(!is_settled("REVIEW_IN_PROGRESS"));
        assert!(is_settled("ROLLBACK_COMPLETE"));
        assert!(is_success("UPDATE_COMPLETE"));
        assert!(!is_success("UPDATE_ROLLBACK_COMPLETE"));
        assert!(!is_success("ROLLBACK_COMPLETE"));
    }

    #[test]
    fn event_lines_carry_the_reason() {
        let line = event_line(&event(
            "B",
            "AWS::S3::Bucket",
            "CREATE_FAILED",
            Some("denied"),
        ));
        assert!(
            line.contains("CREATE_FAILED") && line.ends_with("B (denied)"),
            "{line}"
        );
    }
}
