//! `cib check --live`: the template's images against CodeBuild's concurrent-build quota.
//!
//! CodeBuild runs at most the account's quota of builds at once per environment type and
//! compute type, and queues up to five times that
//! (https://docs.aws.amazon.com/codebuild/latest/userguide/builds-working.html). The quota
//! compared with is the one the user gives (`--codebuild-quota`); without it, only groups
//! on ARM/Large (arm64's default compute) are compared, with the default of 1 that the
//! quotas page lists for "Concurrently running builds for ARM/Large environment"
//! (https://docs.aws.amazon.com/codebuild/latest/userguide/limits.html). Nothing here reads
//! the account's real value: the message says where to find it.

use std::collections::BTreeMap;

use cib_engine::Finding;
use serde_json::Value;

/// Id of the warning.
pub const CONCURRENCY_QUOTA: &str = "CIB055";

/// The documented default quota of ARM/Large builds.
pub const ARM_LARGE_DEFAULT_QUOTA: u32 = 1;

/// The Service Quotas name of a group, e.g. `ARM/Large`.
fn quota_label(environment_type: &str, compute_type: &str) -> String {
    let platform = match environment_type {
        "ARM_CONTAINER" => "ARM",
        "LINUX_CONTAINER" => "Linux",
        other => other,
    };
    let size = match compute_type {
        "BUILD_GENERAL1_SMALL" => "Small",
        "BUILD_GENERAL1_MEDIUM" => "Medium",
        "BUILD_GENERAL1_LARGE" => "Large",
        "BUILD_GENERAL1_XLARGE" => "XLarge",
        "BUILD_GENERAL1_2XLARGE" => "2XLarge",
        other => other,
    };
    format!("{platform}/{size}")
}

/// The images of `expanded` (its triggers), grouped by their project's environment type and
/// compute type; projects whose type is not a plain string are left out.
pub fn images_per_environment(expanded: &Value) -> BTreeMap<(String, String), Vec<String>> {
    let mut groups: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let Some(resources) = expanded.get("Resources").and_then(Value::as_object) else {
        return groups;
    };
    for (id, resource) in resources {
        if resource.get("Type").and_then(Value::as_str) != Some("Custom::ContainerImageBuild") {
            continue;
        }
        let Some(project_id) = resource
            .pointer("/Properties/ProjectName/Ref")
            .and_then(Value::as_str)
        else {
            continue;
        };
        let Some(env) = resources
            .get(project_id)
            .and_then(|p| p.pointer("/Properties/Environment"))
        else {
            continue;
        };
        let text = |k: &str| env.get(k).and_then(Value::as_str).map(str::to_owned);
        if let (Some(kind), Some(compute)) = (text("Type"), text("ComputeType")) {
            groups.entry((kind, compute)).or_default().push(id.clone());
        }
    }
    groups
}

/// A warning per group with more images than the quota starts at once.
pub fn findings(expanded: Option<&Value>, quota: Option<u32>) -> Vec<Finding> {
    let Some(expanded) = expanded else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for ((kind, compute), images) in images_per_environment(expanded) {
        let label = quota_label(&kind, &compute);
        let (limit, source) = match quota {
            Some(q) => (q, "the quota you gave (--codebuild-quota)".to_string()),
            None if kind == "ARM_CONTAINER" && compute == "BUILD_GENERAL1_LARGE" => (
                ARM_LARGE_DEFAULT_QUOTA,
                "the default quota CodeBuild documents for ARM/Large (your account's may differ)"
                    .to_string(),
            ),
            None => continue,
        };
        let count = u32::try_from(images.len()).unwrap_or(u32::MAX);
        if count <= limit {
            continue;
        }
        let queued = count - limit;
        let refused = count.saturating_sub(limit.saturating_mul(6));
        let mut message = format!(
            "{count} images build on {label} ({kind}, {compute}), more than the {limit} \
             concurrent builds of {source}: {queued} wait in CodeBuild's queue and build in \
             {} waves",
            count.div_ceil(limit.max(1))
        );
        if refused > 0 {
            message.push_str(&format!(
                ", and {refused} are refused until the queue (5 x {limit}) has room (the \
                 provider retries them until their ServiceTimeout)"
            ));
        }
        message.push_str("; every image must finish within its trigger's ServiceTimeout");
        out.push(Finding::warning(
            CONCURRENCY_QUOTA,
            images.first().map(String::as_str),
            "Resources",
            message,
            format!(
                "Check 'Concurrently running builds for {label} environment' in Service Quotas \
                 (service codebuild) and raise it, or pass --codebuild-quota with its value; \
                 docs/provider.md, Build concurrency, gives the quota a stack needs"
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(platforms: &[&str]) -> Value {
        let mut resources = serde_json::Map::new();
        for (i, platform) in platforms.iter().enumerate() {
            resources.insert(
                format!("Image{i}"),
                json!({"Type": "Custom::ContainerImageBuild", "Properties": {
                    "Source": {"Dockerfile": "FROM scratch\n"}, "Platform": platform}}),
            );
        }
        json!({"Transform": "ContainerImageBuild", "Resources": resources})
    }

    fn expanded(platforms: &[&str]) -> Value {
        let options = cib_engine::ExpandOptions {
            region: Some("us-east-1".into()),
            ..cib_engine::ExpandOptions::default()
        };
        let outcome = cib_engine::expand(&template(platforms), &options);
        outcome
            .template
            .unwrap_or_else(|| panic!("expands: {:?}", outcome.findings))
    }

    #[test]
    fn arm64_images_are_compared_with_the_documented_default() {
        let t = expanded(&["linux/arm64", "linux/arm64", "linux/amd64"]);
        let groups = images_per_environment(&t);
        assert_eq!(
            groups
                .get(&("ARM_CONTAINER".into(), "BUILD_GENERAL1_LARGE".into()))
                .map(Vec::len),
            Some(2)
        );
        let found = findings(Some(&t), None);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].id, CONCURRENCY_QUOTA);
        assert!(!found[0].is_error());
        assert!(
            found[0].message.contains("2 images build on ARM/Large"),
            "{}",
            found[0].message
        );
        assert!(
            found[0].message.contains("documents"),
            "{}",
            found[0].message
        );
        assert!(
            found[0]
                .fix
                .contains("Concurrently running builds for ARM/Large environment")
        );
    }

    #[test]
    fn a_given_quota_applies_to_every_group() {
        let t = expanded(&["linux/arm64", "linux/arm64", "linux/amd64", "linux/amd64"]);
        assert!(findings(Some(&t), Some(2)).is_empty());
        let found = findings(Some(&t), Some(1));
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.iter().any(|f| f.message.contains("Linux/Medium")));
        let many = expanded(&["linux/arm64"; 8]);
        let found = findings(Some(&many), None);
        assert!(
            found[0].message.contains("2 are refused"),
            "{}",
            found[0].message
        );
    }
}
