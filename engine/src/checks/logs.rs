//! CIB018: a log retention needs a log group of the image's own.

use super::{Context, ids};
use crate::finding::Finding;
use crate::path::TemplatePath;

/// Reports `RetentionInDays` without `LogGroupName`, and a group claimed by two images.
pub fn check(context: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut claimed = Vec::new();
    for image in context.images {
        let Some(_) = image.build_logs.retention_in_days else {
            continue;
        };
        let path = TemplatePath::properties_of(&image.logical_id).key("BuildLogs");
        match &image.build_logs.group_name {
            None => findings.push(Finding::error(
                ids::RETENTION_WITHOUT_GROUP,
                Some(&image.logical_id),
                path.key("RetentionInDays"),
                "RetentionInDays creates a log group, which needs a LogGroupName of this image's own",
                "add BuildLogs.LogGroupName, or drop RetentionInDays to use the stack's default group",
            )),
            Some(name) if claimed.contains(name) => findings.push(Finding::error(
                ids::RETENTION_WITHOUT_GROUP,
                Some(&image.logical_id),
                path.key("LogGroupName"),
                "another image already creates this log group with a retention",
                "set RetentionInDays on one image only, or use different group names",
            )),
            Some(name) => claimed.push(name.clone()),
        }
    }
    findings
}
