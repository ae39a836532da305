//! CIB043: the build and the replica wait must fit in the custom resource's timeout.

use super::{Context, ids};
use crate::expand::trigger::{
    MAX_SERVICE_TIMEOUT_SECONDS, REPLICA_WAIT_MINUTES, START_MARGIN_MINUTES,
    service_timeout_seconds,
};
use crate::finding::Finding;
use crate::path::TemplatePath;

/// Reports images whose build cannot finish inside CloudFormation's 3600 s wait.
pub fn check(context: &Context<'_>) -> Vec<Finding> {
    context
        .images
        .iter()
        .filter(|image| service_timeout_seconds(image) > MAX_SERVICE_TIMEOUT_SECONDS)
        .map(|image| {
            let wait = if image.replica_regions.is_empty() { 0 } else { REPLICA_WAIT_MINUTES };
            let max = MAX_SERVICE_TIMEOUT_SECONDS / 60 - wait - START_MARGIN_MINUTES;
            Finding::error(
                ids::TIMEOUT_TOO_LONG,
                Some(&image.logical_id),
                TemplatePath::properties_of(&image.logical_id).key("TimeoutInMinutes"),
                format!(
                    "a {}-minute build plus {wait} minutes of replica wait and {START_MARGIN_MINUTES} of start-up exceeds the 60 minutes CloudFormation waits for a custom resource",
                    image.timeout_minutes
                ),
                format!("use TimeoutInMinutes of at most {max}"),
            )
        })
        .collect()
}
