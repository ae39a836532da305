//! CIB018: `BuildLogs.LogGroupName` together with settings for a group the template creates.
//!
//! `LogGroupName` names a log group that lives outside the template; `RetentionInDays` and
//! `KmsKeyId` configure a group the template creates, and every generated group is named
//! by CloudFormation (a fixed name on a retained group would make the next deploy fail
//! with "already exists"). The two cannot be combined.

use super::{Context, ids};
use crate::finding::Finding;
use crate::path::TemplatePath;

/// Reports `LogGroupName` combined with `RetentionInDays` or `KmsKeyId`.
pub fn check(context: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for image in context.images {
        let logs = &image.build_logs;
        if logs.group_name.is_none() {
            continue;
        }
        let path = TemplatePath::properties_of(&image.logical_id).key("BuildLogs");
        let settings: Vec<&str> = [
            logs.retention_in_days.map(|_| "RetentionInDays"),
            logs.kms_key_id.as_ref().map(|_| "KmsKeyId"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if settings.is_empty() {
            continue;
        }
        findings.push(Finding::error(
            ids::NAMED_LOG_GROUP_WITH_SETTINGS,
            Some(&image.logical_id),
            path.key("LogGroupName"),
            format!(
                "LogGroupName names an existing log group, and {} configure a log group that the template creates and CloudFormation names",
                settings.join(" and ")
            ),
            format!(
                "drop LogGroupName to let the template create the image's log group with {}, or drop {} and set them on your own group",
                settings.join(" and "),
                settings.join(" and ")
            ),
        ));
    }
    findings
}
