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

/// Where an image build's reason puts its log link: `Log: <url>` (the build's own answer,
/// `engine/assets/respond.sh`) or `; log: <url>` (the provider's answer when the build ended
/// without answering).
const LOG_MARKERS: [&str; 2] = ["Log: ", "log: "];
/// What the build's responder and the provider append to a reason they had to shorten.
const TRUNCATED: &str = "[truncated]";

impl Failure {
    /// True for an image build trigger.
    pub fn is_image_build(&self) -> bool {
        self.resource_type == IMAGE_TYPE
    }

    /// The build's log link in an image build's reason: the URL after the last `Log: ` or
    /// `log: `. `None` for other resources, when the reason names no URL there (`Log: this
    /// build`, `log: see the CodeBuild console`), and when the URL was cut by the shortening
    /// to CloudFormation's response limit (a partial link would lead nowhere).
    pub fn log_link(&self) -> Option<&str> {
        if !self.is_image_build() {
            return None;
        }
        log_link(&self.reason)
    }

    /// The failure as `cib deploy` reports it, the reason always in full. An image build
    /// with a log link says so first: `image build failed: ApiImage
    /// (Custom::ContainerImageBuild, CREATE_FAILED)`, then `log: <url>`, then the reason.
    pub fn report(&self) -> String {
        match self.log_link() {
            Some(link) => format!(
                "image build failed: {} ({}, {})\n  log: {link}\n  reason: {}",
                self.logical_id, self.resource_type, self.status, self.reason
            ),
            None => format!(
                "{} ({}) failed with {}: {}",
                self.logical_id, self.resource_type, self.status, self.reason
            ),
        }
    }
}

/// The URL after the last log marker of `reason`, unless it was cut short.
fn log_link(reason: &str) -> Option<&str> {
    let start = LOG_MARKERS
        .iter()
        .filter_map(|marker| reason.rfind(marker).map(|at| at + marker.len()))
        .max()?;
    let rest = reason.get(start..)?;
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let (token, after) = rest.split_at(end);
    let link = token.trim_end_matches(['.', ',', ';', ')']);
    let is_url = link.starts_with("https://") || link.starts_with("http://");
    let cut = after.trim_start().starts_with(TRUNCATED);
    (is_url && link.len() > "https://".len() && !cut).then_some(link)
}

/// CloudFormation's reason for a resource it stopped because another one failed.
fn is_cancellation(reason: &str) -> bool {
    reason.starts_with("Resource ") && reason.ends_with(" cancelled")
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
            // "Resource creation cancelled" is a consequence of another failure, not a cause;
            // a build whose own message says "cancelled" still is one.
            if !is_cancellation(&reason) {
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

    /// The link `CODEBUILD_BUILD_URL` gives a build, which `respond.sh` puts after `Log: `.
    const BUILD_URL: &str = "https://us-east-1.console.aws.amazon.com/codesuite/codebuild/123456789012/projects/app-ContainerImageBuildProjectAmd64/build/app-ContainerImageBuildProjectAmd64%3Ab1e6661e-e4f2-4156-9ab9-82a19EXAMPLE/?region=us-east-1";

    /// The reason CloudFormation gives a custom resource that answered FAILED with `message`.
    fn cloudformation_reason(message: &str) -> String {
        format!(
            "Received response status [FAILED] from custom resource. Message returned: {message} (RequestId: 6c1f4f0e-2b7a-4d3e-9a51-0d7f2c1e8b90)"
        )
    }

    fn failure_of(events: &[StackEvent]) -> Failure {
        let mut tracker = Tracker::new(events.len());
        for e in events {
            tracker.apply(e);
        }
        match tracker.first_failure() {
            Some(f) => f.clone(),
            None => panic!("no failure in {events:?}"),
        }
    }

    #[test]
    fn a_failed_image_build_is_reported_with_its_log_link_and_its_whole_reason() {
        // What respond.sh answers when the BUILD phase failed: the phase, CodeBuild's
        // message for it, and the build's link.
        let message = format!(
            "The image build failed in phase BUILD (FAILED: Error while executing command: bash -c \"$CIB_BUILD_SCRIPT\" cib-build --build-arg VERSION. Reason: exit status 1). Log: {BUILD_URL}"
        );
        let reason = cloudformation_reason(&message);
        let failure = failure_of(&[
            event(
                "app",
                STACK_TYPE,
                "CREATE_IN_PROGRESS",
                Some("User Initiated"),
            ),
            event("ApiImage", IMAGE_TYPE, "CREATE_IN_PROGRESS", None),
            event("ApiImage", IMAGE_TYPE, "CREATE_FAILED", Some(&reason)),
            event(
                "Queue",
                "AWS::SQS::Queue",
                "CREATE_FAILED",
                Some("Resource creation cancelled"),
            ),
            event(
                "app",
                STACK_TYPE,
                "ROLLBACK_IN_PROGRESS",
                Some(
                    "The following resource(s) failed to create: [ApiImage, Queue]. Rollback requested by user.",
                ),
            ),
        ]);
        assert_eq!(failure.log_link(), Some(BUILD_URL));
        let report = failure.report();
        let lines: Vec<&str> = report.lines().collect();
        assert_eq!(
            lines,
            vec![
                "image build failed: ApiImage (Custom::ContainerImageBuild, CREATE_FAILED)",
                &format!("  log: {BUILD_URL}"),
                &format!("  reason: {reason}"),
            ]
        );
    }

    #[test]
    fn the_providers_answer_gives_the_log_link_too() {
        // What the provider answers when the build ended without answering (here: its
        // install phase failed, so post_build never ran).
        let log = "https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#logEvent:group=/aws/codebuild/app-ContainerImageBuildProjectAmd64;stream=b1e6661e-e4f2-4156-9ab9-82a19EXAMPLE";
        let reason = cloudformation_reason(&format!(
            "The image build ended FAILED in phase INSTALL (COMMAND_EXECUTION_ERROR: Error while executing command: pip install awscli==0.0.0. Reason: exit status 1). Build app-ContainerImageBuildProjectAmd64:b1e6661e-e4f2-4156-9ab9-82a19EXAMPLE; log: {log}"
        ));
        let failure = failure_of(&[event(
            "ApiImage",
            IMAGE_TYPE,
            "CREATE_FAILED",
            Some(&reason),
        )]);
        assert_eq!(failure.log_link(), Some(log));
        assert!(
            failure
                .report()
                .starts_with("image build failed: ApiImage ")
        );
        assert!(failure.report().ends_with(&reason));
    }

    #[test]
    fn a_long_reason_is_never_cut() {
        // CodeBuild's message for a failed phase can be long; the report keeps all of it.
        let context = "x".repeat(3000);
        let reason = cloudformation_reason(&format!(
            "The image build failed in phase BUILD (FAILED: {context}). Log: {BUILD_URL}"
        ));
        let failure = failure_of(&[event(
            "ApiImage",
            IMAGE_TYPE,
            "UPDATE_FAILED",
            Some(&reason),
        )]);
        assert!(failure.report().contains(&reason));
        assert!(
            event_line(&event(
                "ApiImage",
                IMAGE_TYPE,
                "UPDATE_FAILED",
                Some(&reason)
            ))
            .contains(&reason)
        );
    }

    #[test]
    fn no_link_is_claimed_when_the_reason_has_none_or_a_cut_one() {
        for message in [
            // CODEBUILD_BUILD_URL unset: respond.sh falls back to the build id.
            "The image build failed in phase BUILD (FAILED). Log: app-Project:b1e6661e".to_owned(),
            // The provider without a deep link from EventBridge.
            "The image build ended STOPPED. Build app-Project:b1e6661e; log: see the CodeBuild console".to_owned(),
            // Shortened to CloudFormation's 4096-byte response: the link lost its end.
            format!("The image build failed in phase BUILD (FAILED: {}). Log: https://us-east-1.console.aws.amazon.com/codesuite/codebu [truncated]", "y".repeat(100)),
            // No marker at all: a URL inside CodeBuild's message is not the build's log.
            "CodeBuild StartBuild failed: see https://docs.aws.amazon.com/codebuild/".to_owned(),
        ] {
            let reason = cloudformation_reason(&message);
            let failure = failure_of(&[event("ApiImage", IMAGE_TYPE, "CREATE_FAILED", Some(&reason))]);
            assert_eq!(failure.log_link(), None, "{message}");
            assert_eq!(
                failure.report(),
                format!("ApiImage (Custom::ContainerImageBuild) failed with CREATE_FAILED: {reason}")
            );
        }
    }

    #[test]
    fn only_image_builds_report_a_log_link() {
        let reason = format!("Log: {BUILD_URL}");
        let failure = failure_of(&[event(
            "Fn",
            "AWS::Lambda::Function",
            "CREATE_FAILED",
            Some(&reason),
        )]);
        assert_eq!(failure.log_link(), None);
        assert!(
            failure
                .report()
                .starts_with("Fn (AWS::Lambda::Function) failed with CREATE_FAILED: ")
        );
    }

    #[test]
    fn a_build_whose_message_says_cancelled_is_still_the_failure() {
        let reason = cloudformation_reason(&format!(
            "The image build failed in phase BUILD (FAILED: Error while executing command: bash -c \"$CIB_BUILD_SCRIPT\" cib-build. Reason: exit status 1: npm install cancelled). Log: {BUILD_URL}"
        ));
        let failure = failure_of(&[
            event(
                "Other",
                "AWS::SQS::Queue",
                "CREATE_FAILED",
                Some("Resource update cancelled"),
            ),
            event("ApiImage", IMAGE_TYPE, "CREATE_FAILED", Some(&reason)),
        ]);
        assert_eq!(failure.logical_id, "ApiImage");
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
