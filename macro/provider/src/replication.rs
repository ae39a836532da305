//! Merging one template's replication rules into the registry's live configuration.
//!
//! ECR has one replication configuration per registry and region. A template owns the
//! repository filters it asked for, never whole rules: its filters join a rule with exactly
//! the same destination set (or a new rule), and on removal only its filters leave; a rule
//! left without filters is dropped (a rule without filters would replicate every
//! repository). Rules without filters that someone else wrote are never touched.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::error::ProviderError;
use crate::properties::{optional, required};

/// ECR's limit on rules in one configuration.
pub const MAX_RULES: usize = 10;
/// ECR's limit on distinct destinations across all rules.
pub const MAX_DESTINATIONS: usize = 25;
/// ECR's limit on repository filters in one rule.
pub const MAX_FILTERS_PER_RULE: usize = 100;
/// The only filter type ECR has.
pub const PREFIX_MATCH: &str = "PREFIX_MATCH";

/// A replication destination.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Destination {
    /// Destination region.
    pub region: String,
    /// Destination registry (account id).
    pub registry_id: String,
}

/// A repository filter as ECR stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The prefix.
    pub filter: String,
    /// `PREFIX_MATCH`.
    pub filter_type: String,
}

/// One replication rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Where images go.
    pub destinations: Vec<Destination>,
    /// Which repositories; empty means all.
    pub filters: Vec<Filter>,
}

impl Rule {
    fn destination_set(&self) -> BTreeSet<Destination> {
        self.destinations.iter().cloned().collect()
    }
}

/// A registry's replication configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplicationConfig {
    /// The rules, in ECR's order.
    pub rules: Vec<Rule>,
}

/// What one template asks for: per destination set, the repository names to replicate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Desired {
    /// (destination set, repository names) pairs, one per distinct destination set.
    pub rules: Vec<(BTreeSet<Destination>, BTreeSet<String>)>,
}

impl Desired {
    /// Reads the replication resource's `Rules` property (the shape of
    /// `AWS::ECR::ReplicationConfiguration`); a destination without `RegistryId` means
    /// `account_id`. Rules without filters are ignored: this resource only ever replicates
    /// named repositories.
    pub fn parse(props: &Map<String, Value>, account_id: &str) -> Result<Desired, ProviderError> {
        let rules = match props.get("Rules") {
            None | Some(Value::Null) => return Ok(Desired::default()),
            Some(Value::Array(r)) => r,
            Some(_) => return Err(ProviderError::property("Rules", "must be a list")),
        };
        let mut desired = Desired::default();
        for (i, rule) in rules.iter().enumerate() {
            let path = format!("Rules[{i}]");
            let Value::Object(rule) = rule else {
                return Err(ProviderError::property(path, "must be an object"));
            };
            let mut dests = BTreeSet::new();
            for (j, d) in list(rule, &format!("{path}.Destinations"), "Destinations")?
                .iter()
                .enumerate()
            {
                let dpath = format!("{path}.Destinations[{j}]");
                let Value::Object(d) = d else {
                    return Err(ProviderError::property(dpath, "must be an object"));
                };
                dests.insert(Destination {
                    region: required(d, "Region")
                        .map_err(|e| ProviderError::from(e.under(&dpath)))?,
                    registry_id: optional(d, "RegistryId")?
                        .unwrap_or_else(|| account_id.to_string()),
                });
            }
            let mut repos = BTreeSet::new();
            for (j, f) in list(
                rule,
                &format!("{path}.RepositoryFilters"),
                "RepositoryFilters",
            )?
            .iter()
            .enumerate()
            {
                let fpath = format!("{path}.RepositoryFilters[{j}]");
                let Value::Object(f) = f else {
                    return Err(ProviderError::property(fpath, "must be an object"));
                };
                let kind = optional(f, "FilterType")?.unwrap_or_else(|| PREFIX_MATCH.into());
                if kind != PREFIX_MATCH {
                    return Err(ProviderError::property(
                        format!("{fpath}.FilterType"),
                        "must be PREFIX_MATCH",
                    ));
                }
                repos.insert(
                    required(f, "Filter").map_err(|e| ProviderError::from(e.under(&fpath)))?,
                );
            }
            if dests.is_empty() || repos.is_empty() {
                continue;
            }
            match desired.rules.iter_mut().find(|(d, _)| *d == dests) {
                Some((_, r)) => r.extend(repos),
                None => desired.rules.push((dests, repos)),
            }
        }
        Ok(desired)
    }

    fn pairs(&self) -> impl Iterator<Item = (&BTreeSet<Destination>, &String)> {
        self.rules
            .iter()
            .flat_map(|(d, repos)| repos.iter().map(move |r| (d, r)))
    }

    fn has(&self, dests: &BTreeSet<Destination>, repo: &str) -> bool {
        self.rules
            .iter()
            .any(|(d, r)| d == dests && r.contains(repo))
    }
}

fn list<'a>(
    m: &'a Map<String, Value>,
    path: &str,
    key: &str,
) -> Result<&'a [Value], ProviderError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(ProviderError::property(path, "must be a list")),
    }
}

/// The configuration after taking out `remove` (what this resource asked for before) and
/// putting in `add` (what it asks for now). Everything else is kept as it was.
pub fn merge(live: &ReplicationConfig, remove: &Desired, add: &Desired) -> ReplicationConfig {
    let mut out = live.clone();
    for (dests, repo) in remove.pairs() {
        if add.has(dests, repo) {
            continue;
        }
        for rule in out
            .rules
            .iter_mut()
            .filter(|r| r.destination_set() == *dests)
        {
            rule.filters
                .retain(|f| !(f.filter == *repo && f.filter_type == PREFIX_MATCH));
        }
    }
    // A rule emptied here lost only our filters: without filters it would replicate
    // everything, so it goes. Rules that had no filters to begin with stay.
    let had_filters: Vec<bool> = live.rules.iter().map(|r| !r.filters.is_empty()).collect();
    let mut index = 0;
    out.rules.retain(|r| {
        let keep = !r.filters.is_empty() || !had_filters.get(index).copied().unwrap_or(false);
        index += 1;
        keep
    });
    for (dests, repos) in &add.rules {
        let existing = out
            .rules
            .iter_mut()
            .find(|r| r.destination_set() == *dests && !r.filters.is_empty());
        match existing {
            Some(rule) => {
                for repo in repos {
                    if !rule
                        .filters
                        .iter()
                        .any(|f| f.filter == *repo && f.filter_type == PREFIX_MATCH)
                    {
                        rule.filters.push(Filter {
                            filter: repo.clone(),
                            filter_type: PREFIX_MATCH.into(),
                        });
                    }
                }
            }
            None => out.rules.push(Rule {
                destinations: dests.iter().cloned().collect(),
                filters: repos
                    .iter()
                    .map(|r| Filter {
                        filter: r.clone(),
                        filter_type: PREFIX_MATCH.into(),
                    })
                    .collect(),
            }),
        }
    }
    out
}

/// Checks ECR's limits, and that no destination is the source registry itself.
pub fn check_limits(
    config: &ReplicationConfig,
    source_region: &str,
    account_id: &str,
) -> Result<(), ProviderError> {
    let fail = |m: String| Err(ProviderError::ReplicationLimit(m));
    if config.rules.len() > MAX_RULES {
        return fail(format!(
            "the merged configuration would have {} rules, over ECR's limit of {MAX_RULES} \
             (rules are shared per destination set; use fewer distinct ReplicaRegions sets)",
            config.rules.len()
        ));
    }
    let distinct: BTreeSet<&Destination> =
        config.rules.iter().flat_map(|r| &r.destinations).collect();
    if distinct.len() > MAX_DESTINATIONS {
        return fail(format!(
            "the merged configuration would have {} distinct destinations, over ECR's limit of {MAX_DESTINATIONS}",
            distinct.len()
        ));
    }
    for (i, rule) in config.rules.iter().enumerate() {
        if rule.filters.len() > MAX_FILTERS_PER_RULE {
            let regions: Vec<&str> = rule
                .destinations
                .iter()
                .map(|d| d.region.as_str())
                .collect();
            return fail(format!(
                "rule {i} (to {}) would have {} repository filters, over ECR's limit of {MAX_FILTERS_PER_RULE}",
                regions.join(", "),
                rule.filters.len()
            ));
        }
    }
    if let Some(d) = distinct
        .iter()
        .find(|d| d.region == source_region && d.registry_id == account_id)
    {
        return fail(format!(
            "destination {} in registry {} is the source registry itself",
            d.region, d.registry_id
        ));
    }
    Ok(())
}

/// Whether every (destination set, repository) of `desired` is replicated by `config`.
pub fn includes(config: &ReplicationConfig, desired: &Desired) -> bool {
    desired.pairs().all(|(dests, repo)| {
        config.rules.iter().any(|r| {
            r.destination_set() == *dests
                && r.filters
                    .iter()
                    .any(|f| f.filter == *repo && f.filter_type == PREFIX_MATCH)
        })
    })
}

/// Whether no filter of `removed` (and not re-added by `kept`) is left in `config`.
pub fn excludes(config: &ReplicationConfig, removed: &Desired, kept: &Desired) -> bool {
    removed
        .pairs()
        .filter(|(d, r)| !kept.has(d, r))
        .all(|(dests, repo)| {
            !config.rules.iter().any(|r| {
                r.destination_set() == *dests
                    && r.filters
                        .iter()
                        .any(|f| f.filter == *repo && f.filter_type == PREFIX_MATCH)
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ACCOUNT: &str = "123456789012";

    fn dest(region: &str) -> Destination {
        Destination {
            region: region.into(),
            registry_id: ACCOUNT.into(),
        }
    }

    fn rule(regions: &[&str], filters: &[&str]) -> Rule {
        Rule {
            destinations: regions.iter().map(|r| dest(r)).collect(),
            filters: filters
                .iter()
                .map(|f| Filter {
                    filter: (*f).into(),
                    filter_type: PREFIX_MATCH.into(),
                })
                .collect(),
        }
    }

    fn desired(rules: Value) -> Desired {
        let Value::Object(m) = json!({"Rules": rules}) else {
            unreachable!()
        };
        Desired::parse(&m, ACCOUNT).expect("parse")
    }

    #[test]
    fn joins_a_foreign_rule_with_the_same_destinations_and_keeps_others() {
        let live = ReplicationConfig {
            rules: vec![rule(&["us-west-2"], &["theirs"]), rule(&["eu-west-1"], &[])],
        };
        let ours = desired(
            json!([{"Destinations": [{"Region": "us-west-2"}], "RepositoryFilters": [{"Filter": "api", "FilterType": "PREFIX_MATCH"}]}]),
        );
        let merged = merge(&live, &Desired::default(), &ours);
        assert_eq!(merged.rules[0], rule(&["us-west-2"], &["theirs", "api"]));
        assert_eq!(merged.rules[1], rule(&["eu-west-1"], &[]));
        assert!(includes(&merged, &ours));
        let back = merge(&merged, &ours, &Desired::default());
        assert_eq!(back, live);
    }

    #[test]
    fn a_rule_left_without_our_filters_is_dropped() {
        let ours = desired(
            json!([{"Destinations": [{"Region": "eu-west-1"}, {"Region": "us-west-2"}], "RepositoryFilters": [{"Filter": "api"}]}]),
        );
        let merged = merge(&ReplicationConfig::default(), &Desired::default(), &ours);
        assert_eq!(merged.rules.len(), 1);
        assert!(merge(&merged, &ours, &Desired::default()).rules.is_empty());
    }

    #[test]
    fn an_update_moves_filters_between_destination_sets() {
        let old = desired(
            json!([{"Destinations": [{"Region": "us-west-2"}], "RepositoryFilters": [{"Filter": "api"}, {"Filter": "web"}]}]),
        );
        let new = desired(
            json!([{"Destinations": [{"Region": "us-west-2"}], "RepositoryFilters": [{"Filter": "api"}]},
                                 {"Destinations": [{"Region": "eu-west-1"}], "RepositoryFilters": [{"Filter": "web"}]}]),
        );
        let live = merge(&ReplicationConfig::default(), &Desired::default(), &old);
        let merged = merge(&live, &old, &new);
        assert_eq!(
            merged.rules,
            vec![
                rule(&["us-west-2"], &["api"]),
                rule(&["eu-west-1"], &["web"])
            ]
        );
        assert!(excludes(&merged, &old, &new));
    }

    #[test]
    fn limits_are_checked_on_the_merged_result() {
        let many: Vec<Rule> = (0..11)
            .map(|i| rule(&[&format!("r-{i}")], &["x"]))
            .collect();
        let e = check_limits(&ReplicationConfig { rules: many }, "us-east-1", ACCOUNT)
            .expect_err("rules");
        assert!(e.to_string().contains("11 rules"), "{e}");
        let filters: Vec<String> = (0..101).map(|i| format!("repo{i}")).collect();
        let refs: Vec<&str> = filters.iter().map(String::as_str).collect();
        let e = check_limits(
            &ReplicationConfig {
                rules: vec![rule(&["us-west-2"], &refs)],
            },
            "us-east-1",
            ACCOUNT,
        )
        .expect_err("filters");
        assert!(e.to_string().contains("101 repository filters"), "{e}");
        let regions: Vec<String> = (0..26).map(|i| format!("r-{i}")).collect();
        let refs: Vec<&str> = regions.iter().map(String::as_str).collect();
        let e = check_limits(
            &ReplicationConfig {
                rules: vec![rule(&refs, &["x"])],
            },
            "us-east-1",
            ACCOUNT,
        )
        .expect_err("destinations");
        assert!(e.to_string().contains("26 distinct destinations"), "{e}");
        let e = check_limits(
            &ReplicationConfig {
                rules: vec![rule(&["us-east-1"], &["x"])],
            },
            "us-east-1",
            ACCOUNT,
        )
        .expect_err("self");
        assert!(e.to_string().contains("source registry"), "{e}");
    }
}
