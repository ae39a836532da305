//! The build log groups: one per template (`ContainerImageBuildLogGroup`), and one of an
//! image's own when its `BuildLogs` settings differ from the template's.
//!
//! No generated log group has a `LogGroupName`: CloudFormation generates a name unique to
//! the stack instance, so a group retained by an earlier stack never blocks a redeploy. Groups are retained on delete and replacement, so the logs of
//! a failed build (the failure reason links to them) survive the rollback that follows;
//! their events still expire after `RetentionInDays`.

use serde_json::{Map, Value, json};

use super::attributes::with_condition;
use super::ids;
use crate::spec::ImageSpec;

/// Retention of the template's build log group, in days (also the default of an image's
/// own group).
pub const DEFAULT_RETENTION_DAYS: i64 = 30;

/// True when the image gets a log group of its own: it asks for a KMS key or for a
/// retention other than the template group's, and names no group of its own
/// (`BuildLogs.LogGroupName` with these settings is refused, CIB018).
pub fn has_own_group(image: &ImageSpec) -> bool {
    let logs = &image.build_logs;
    logs.group_name.is_none()
        && (logs.kms_key_id.is_some()
            || logs
                .retention_in_days
                .is_some_and(|days| days != DEFAULT_RETENTION_DAYS))
}

/// The log group the image's builds write to, when it is not the template's: a `Ref` to
/// its own group, or the `BuildLogs.LogGroupName` it names. `None`: the template's group
/// (the projects' default).
pub fn group_name(image: &ImageSpec) -> Option<Value> {
    if has_own_group(image) {
        return Some(json!({"Ref": ids::log_group(&image.logical_id)}));
    }
    image.build_logs.group_name.clone()
}

/// The template's build log group, which every project logs to by default.
pub fn template_resource() -> Map<String, Value> {
    let mut properties = Map::new();
    properties.insert("RetentionInDays".into(), json!(DEFAULT_RETENTION_DAYS));
    group(properties)
}

/// The image's own log group, when it has one (see [`has_own_group`]).
pub fn resource(image: &ImageSpec) -> Option<Map<String, Value>> {
    if !has_own_group(image) {
        return None;
    }
    let logs = &image.build_logs;
    let mut properties = Map::new();
    properties.insert(
        "RetentionInDays".into(),
        json!(logs.retention_in_days.unwrap_or(DEFAULT_RETENTION_DAYS)),
    );
    if let Some(key) = &logs.kms_key_id {
        properties.insert("KmsKeyId".into(), key.clone());
    }
    Some(with_condition(group(properties), image))
}

fn group(properties: Map<String, Value>) -> Map<String, Value> {
    let mut resource = Map::new();
    resource.insert("Type".into(), json!("AWS::Logs::LogGroup"));
    resource.insert("DeletionPolicy".into(), json!("Retain"));
    resource.insert("UpdateReplacePolicy".into(), json!("Retain"));
    resource.insert("Properties".into(), Value::Object(properties));
    resource
}
