//! CIB043: the build, the replica wait and the vulnerability gate's scan wait must fit in
//! the custom resource's timeout.

use super::{Context, ids};
use crate::expand::trigger::{
    MAX_SERVICE_TIMEOUT_SECONDS, START_MARGIN_MINUTES, service_timeout_seconds, wait_minutes,
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
            let wait = wait_minutes(image);
            let max = MAX_SERVICE_TIMEOUT_SECONDS / 60 - wait - START_MARGIN_MINUTES;
            Finding::error(
                ids::TIMEOUT_TOO_LONG,
                Some(&image.logical_id),
                TemplatePath::properties_of(&image.logical_id).key("TimeoutInMinutes"),
                format!(
                    "a {}-minute build plus {wait} minutes of waiting after the push (replicas, scan) and {START_MARGIN_MINUTES} of start-up exceeds the 60 minutes CloudFormation waits for a custom resource",
                    image.timeout_minutes
                ),
                format!("use TimeoutInMinutes of at most {max}"),
            )
        })
        .collect()
}
