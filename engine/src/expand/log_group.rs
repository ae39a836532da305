//! The optional log group of an image that asks for a log retention.

use serde_json::{Map, Value, json};

use super::attributes::with_condition;
use crate::spec::ImageSpec;

/// The log group resource, when the image sets `BuildLogs.RetentionInDays`. It is
/// retained on delete and rollback so build logs outlive a failed deploy.
pub fn resource(image: &ImageSpec) -> Option<Map<String, Value>> {
    let days = image.build_logs.retention_in_days?;
    let mut properties = Map::new();
    if let Some(name) = &image.build_logs.group_name {
        properties.insert("LogGroupName".into(), name.clone());
    }
    properties.insert("RetentionInDays".into(), json!(days));
    let mut resource = Map::new();
    resource.insert("Type".into(), json!("AWS::Logs::LogGroup"));
    resource.insert("DeletionPolicy".into(), json!("Retain"));
    resource.insert("UpdateReplacePolicy".into(), json!("Retain"));
    resource.insert("Properties".into(), Value::Object(properties));
    Some(with_condition(resource, image))
}
