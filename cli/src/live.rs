//! Live checks: the registry's replication configuration counts toward ECR's limits, and
//! every replica region must have the support stack (`crate::replica_regions`).
//!
//! Reads `ecr:DescribeRegistry`, and, when the stack already exists, its repositories (the
//! filters it put into the registry on an earlier deploy, which do not count twice); the
//! counting itself is the engine's ([`cib_engine::expand_with_registry`]).

use std::collections::BTreeSet;

use cib_engine::checks::replication_registry::Registry;
use cib_engine::{ExpandOptions, Outcome};
use serde_json::Value;

use crate::aws::{Clients, cfn, ecr};

/// Reads the registry, and the repositories `stack_name` owns when it exists.
pub async fn registry(clients: &Clients, stack_name: Option<&str>) -> Result<Registry, String> {
    let (registry_id, rules) = ecr::replication_rules(&clients.ecr).await?;
    let account_id = if registry_id.is_empty() {
        clients.account_id().await?
    } else {
        registry_id
    };
    let mut owned_filters = BTreeSet::new();
    if let Some(name) = stack_name
        && cfn::stack(&clients.cfn, name).await?.is_some()
    {
        owned_filters = cfn::resources(&clients.cfn, name)
            .await?
            .into_iter()
            .filter(|r| r.resource_type == "AWS::ECR::Repository" && !r.physical_id.is_empty())
            .map(|r| r.physical_id)
            .collect();
    }
    Ok(Registry {
        account_id,
        rules,
        owned_filters,
    })
}

/// Expands `template` with every check, the live registry included.
pub async fn expand(
    clients: &Clients,
    template: &Value,
    options: &ExpandOptions,
    stack_name: Option<&str>,
) -> Result<Outcome, String> {
    let registry = registry(clients, stack_name).await?;
    let mut outcome = cib_engine::expand_with_registry(template, options, &registry);
    let bare = crate::replica_regions::findings(clients, outcome.template.as_ref()).await?;
    outcome.findings.extend(bare);
    Ok(outcome)
}

/// `cib check --live`: the findings of every check, the live registry included.
pub fn check_findings(
    template: &Value,
    options: &ExpandOptions,
    stack_name: Option<&str>,
) -> Result<Vec<cib_engine::Finding>, String> {
    let runtime = crate::aws::runtime()?;
    runtime.block_on(async {
        let clients = Clients::load(options.region.as_deref()).await?;
        let mut options = options.clone();
        options.region = Some(clients.region.clone());
        Ok(expand(&clients, template, &options, stack_name)
            .await?
            .findings)
    })
}
