//! Which replication filters one replication resource added, and so may remove.
//!
//! A filter that was already in the registry when the resource asked for it (a person's, or
//! another stack's on a shared repository) is not the resource's: it stays when the
//! resource changes or goes away. The record is one item per stack and logical id in the
//! support stack's state table, written before the configuration (so a retried event
//! still knows what an interrupted one added) and deleted after a Delete.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::error::ProviderError;
use crate::replication::{self, Desired, Destination, ReplicationConfig};

/// One (destination set, repository filter) pair.
pub type Pair = (BTreeSet<Destination>, String);

/// The record item of one replication resource.
pub fn record_key(stack_id: &str, logical_id: &str) -> String {
    format!("replication-owned#{stack_id}#{logical_id}")
}

/// The pairs of `d`.
pub fn pairs(d: &Desired) -> BTreeSet<Pair> {
    d.rules
        .iter()
        .flat_map(|(dests, repos)| repos.iter().map(move |r| (dests.clone(), r.clone())))
        .collect()
}

/// The `Desired` holding exactly `pairs`.
pub fn from_pairs(pairs: impl IntoIterator<Item = Pair>) -> Desired {
    let mut grouped: BTreeMap<BTreeSet<Destination>, BTreeSet<String>> = BTreeMap::new();
    for (dests, repo) in pairs {
        grouped.entry(dests).or_default().insert(repo);
    }
    Desired {
        rules: grouped.into_iter().collect(),
    }
}

/// The pairs of `a` that are not in `b`.
pub fn minus(a: &Desired, b: &Desired) -> Desired {
    let b = pairs(b);
    from_pairs(pairs(a).into_iter().filter(|p| !b.contains(p)))
}

/// The pairs of `want` that `live` does not replicate yet (what a write would add).
pub fn missing_from(live: &ReplicationConfig, want: &Desired) -> Desired {
    from_pairs(
        pairs(want)
            .into_iter()
            .filter(|p| !replication::includes(live, &from_pairs([p.clone()]))),
    )
}

/// What the resource owns after merging `want` into `live`: what it owned and still wants,
/// plus what it adds now.
pub fn next_owned(owned: &Desired, want: &Desired, live: &ReplicationConfig) -> Desired {
    let want_pairs = pairs(want);
    let kept = pairs(owned).into_iter().filter(|p| want_pairs.contains(p));
    from_pairs(kept.chain(pairs(&missing_from(live, want))))
}

/// The record's text (JSON).
pub fn encode(d: &Desired) -> String {
    let rules: Vec<Value> = d
        .rules
        .iter()
        .map(|(dests, repos)| {
            json!({
                "destinations": dests.iter().map(|x| json!({"region": x.region, "registryId": x.registry_id})).collect::<Vec<_>>(),
                "filters": repos,
            })
        })
        .collect();
    json!({"v": 1, "rules": rules}).to_string()
}

/// Reads a record written by [`encode`].
pub fn decode(key: &str, text: &str) -> Result<Desired, ProviderError> {
    let bad = |message: &str| ProviderError::BadRecord {
        key: key.to_string(),
        message: message.to_string(),
    };
    let v: Value = serde_json::from_str(text).map_err(|e| bad(&format!("not JSON: {e}")))?;
    let rules = v
        .get("rules")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no `rules` list"))?;
    let mut out = Vec::new();
    for rule in rules {
        let mut dests = BTreeSet::new();
        for d in rule
            .get("destinations")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("a rule without `destinations`"))?
        {
            let field = |k: &str| {
                d.get(k)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| bad(&format!("a destination without `{k}`")))
            };
            dests.insert(Destination {
                region: field("region")?,
                registry_id: field("registryId")?,
            });
        }
        let mut repos = BTreeSet::new();
        for f in rule
            .get("filters")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("a rule without `filters`"))?
        {
            repos.insert(
                f.as_str()
                    .ok_or_else(|| bad("a filter that is not a string"))?
                    .to_string(),
            );
        }
        out.push((dests, repos));
    }
    Ok(from_pairs(out.into_iter().flat_map(|(d, repos)| {
        repos.into_iter().map(move |r| (d.clone(), r))
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replication::{Filter, PREFIX_MATCH, Rule};

    fn dests(regions: &[&str]) -> BTreeSet<Destination> {
        regions
            .iter()
            .map(|r| Destination {
                region: (*r).into(),
                registry_id: "123456789012".into(),
            })
            .collect()
    }

    fn want(regions: &[&str], repos: &[&str]) -> Desired {
        from_pairs(repos.iter().map(|r| (dests(regions), (*r).to_string())))
    }

    fn live(regions: &[&str], repos: &[&str]) -> ReplicationConfig {
        ReplicationConfig {
            rules: vec![Rule {
                destinations: dests(regions).into_iter().collect(),
                filters: repos
                    .iter()
                    .map(|r| Filter {
                        filter: (*r).into(),
                        filter_type: PREFIX_MATCH.into(),
                    })
                    .collect(),
            }],
        }
    }

    #[test]
    fn a_filter_that_was_there_before_is_not_ours() {
        let live = live(&["us-west-2"], &["api"]);
        let w = want(&["us-west-2"], &["api", "web"]);
        let owned = next_owned(&Desired::default(), &w, &live);
        assert_eq!(owned, want(&["us-west-2"], &["web"]));
        // Same filter, other destinations: a different pair, so it is added and ours.
        let other = want(&["eu-west-1"], &["api"]);
        assert_eq!(next_owned(&Desired::default(), &other, &live), other);
    }

    #[test]
    fn an_update_keeps_what_it_owned_and_still_wants() {
        let owned = want(&["us-west-2"], &["web", "old"]);
        let live = live(&["us-west-2"], &["api", "web", "old"]);
        let w = want(&["us-west-2"], &["api", "web", "new"]);
        assert_eq!(
            next_owned(&owned, &w, &live),
            want(&["us-west-2"], &["new", "web"])
        );
        assert_eq!(minus(&owned, &w), want(&["us-west-2"], &["old"]));
    }

    #[test]
    fn records_round_trip_and_bad_ones_are_named() {
        let mut d = want(&["us-west-2", "eu-west-1"], &["a", "b"]);
        d.rules.extend(want(&["ap-south-1"], &["c"]).rules);
        let d = from_pairs(pairs(&d));
        let key = record_key("arn:stack", "Replication");
        assert_eq!(decode(&key, &encode(&d)).expect("decode"), d);
        let e = decode(&key, "{\"rules\": 3}").expect_err("bad");
        assert!(
            e.to_string()
                .contains("replication-owned#arn:stack#Replication"),
            "{e}"
        );
    }
}
