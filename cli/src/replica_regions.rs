//! `cib check --live` and `cib deploy`: replica regions without the support stack.
//!
//! A region where `cib bootstrap` never ran has no repository creation template for our
//! repositories, so ECR replication would create replica repositories with ECR's defaults
//! (mutable tags, no scan on push). The provider creates each replica repository with our
//! settings before a build's first push (docs/provider.md, "Replica back-fill"), but
//! repositories replication creates otherwise (another tool's push, a repository added to
//! the filter later) and the region's own stacks still lack it: the warning says so before
//! the deploy, naming the regions and the command that fixes it.

use std::collections::BTreeSet;

use cib_engine::Finding;
use serde_json::Value;

use crate::aws::{Clients, cfn};
use crate::deploy::support::DEFAULT_STACK;

/// Id of the warning.
pub const REPLICA_REGION_NOT_BOOTSTRAPPED: &str = "CIB091";

/// The replica regions of the expanded template's triggers, each with the first image that
/// replicates there.
pub fn replica_regions(expanded: &Value) -> Vec<(String, String)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let resources = expanded.get("Resources").and_then(Value::as_object);
    for (id, resource) in resources.into_iter().flatten() {
        if resource.get("Type").and_then(Value::as_str) != Some("Custom::ContainerImageBuild") {
            continue;
        }
        let regions = resource
            .pointer("/Properties/ReplicaRegions")
            .and_then(Value::as_array);
        for region in regions.into_iter().flatten().filter_map(Value::as_str) {
            if seen.insert(region.to_owned()) {
                out.push((region.to_owned(), id.clone()));
            }
        }
    }
    out
}

/// A warning per replica region of `expanded` that has no support stack (`DEFAULT_STACK`).
pub async fn findings(clients: &Clients, expanded: Option<&Value>) -> Result<Vec<Finding>, String> {
    let Some(expanded) = expanded else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (region, image) in replica_regions(expanded) {
        if cfn::stack(&clients.cfn_in(&region), DEFAULT_STACK)
            .await?
            .is_some()
        {
            continue;
        }
        out.push(Finding::warning(
            REPLICA_REGION_NOT_BOOTSTRAPPED,
            Some(&image),
            format!("Resources.{image}.Properties.ReplicaRegions"),
            format!(
                "replica region {region} has no support stack ({DEFAULT_STACK}): no repository creation template gives replica repositories there our settings; the provider creates this stack's before its first push, but repositories ECR replication creates on its own get ECR's defaults (mutable tags, no scan on push)"
            ),
            format!("run `cib bootstrap --region {region}` once in that region"),
        ));
    }
    Ok(out)
}
