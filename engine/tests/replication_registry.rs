//! The live registry counts toward ECR's replication limits (CIB020, CIB021), minus the
//! filters this stack already owns.

use std::collections::BTreeSet;

use cib_engine::checks::replication_registry::{Destination, Registry, RegistryRule};
use cib_engine::{ExpandOptions, expand_with_registry, template};

const ACCOUNT: &str = "123456789012";

fn template_with(replicas: &[&[&str]]) -> serde_json::Value {
    let mut text = String::from("Resources:\n");
    for (index, regions) in replicas.iter().enumerate() {
        text.push_str(&format!(
            "  Image{index}:\n    Type: Custom::ContainerImageBuild\n    Properties:\n      Source: {{S3Bucket: b, S3Key: k.zip}}\n      ReplicaRegions: [{}]\n",
            regions.join(", ")
        ));
    }
    match template::parse(text.as_bytes()) {
        Ok((value, _)) => value,
        Err(e) => panic!("test template does not parse: {e:?}"),
    }
}

fn options() -> ExpandOptions {
    ExpandOptions {
        region: Some("us-east-1".into()),
        ..ExpandOptions::default()
    }
}

fn rule(regions: &[&str], filters: &[&str]) -> RegistryRule {
    RegistryRule {
        destinations: regions
            .iter()
            .map(|r| Destination {
                region: (*r).into(),
                registry_id: ACCOUNT.into(),
            })
            .collect(),
        filters: filters.iter().map(|f| (*f).to_string()).collect(),
    }
}

fn ids(registry: &Registry, replicas: &[&[&str]]) -> Vec<String> {
    expand_with_registry(&template_with(replicas), &options(), registry)
        .findings
        .into_iter()
        .filter(|f| f.is_error())
        .map(|f| f.id.to_string())
        .collect()
}

/// Nine foreign rules with distinct sets: region `eu-west-1` plus a numbered one.
fn nine_foreign() -> Vec<RegistryRule> {
    let regions = [
        "ap-south-1",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ca-central-1",
        "eu-central-1",
        "eu-north-1",
        "sa-east-1",
    ];
    regions
        .iter()
        .map(|r| rule(&[r], &[&format!("other-{r}")]))
        .collect()
}

#[test]
fn foreign_rules_count_toward_the_ten_rule_limit() {
    let registry = Registry {
        account_id: ACCOUNT.into(),
        rules: nine_foreign(),
        owned_filters: BTreeSet::new(),
    };
    assert!(ids(&registry, &[&["us-west-2"]]).is_empty(), "10 rules fit");
    assert_eq!(
        ids(&registry, &[&["us-west-2"], &["eu-west-1"]]),
        vec!["CIB020"]
    );
}

#[test]
fn a_template_rule_with_an_existing_destination_set_joins_it() {
    let registry = Registry {
        account_id: ACCOUNT.into(),
        rules: nine_foreign(),
        owned_filters: BTreeSet::new(),
    };
    assert!(ids(&registry, &[&["us-west-2"], &["sa-east-1"]]).is_empty());
}

#[test]
fn rules_this_stack_owns_do_not_count() {
    let mut rules = nine_foreign();
    rules.push(rule(&["us-west-2"], &["mine-a"]));
    rules.push(rule(&["eu-west-1"], &["mine-b"]));
    let owned = Registry {
        account_id: ACCOUNT.into(),
        rules: rules.clone(),
        owned_filters: ["mine-a", "mine-b"].map(String::from).into(),
    };
    assert!(ids(&owned, &[&["us-west-2"]]).is_empty());
    let foreign = Registry {
        owned_filters: BTreeSet::new(),
        ..owned
    };
    assert_eq!(ids(&foreign, &[&["us-west-1"]]), vec!["CIB020"]);
}

#[test]
fn a_filterless_foreign_rule_is_kept_even_when_it_owns_nothing() {
    let registry = Registry {
        account_id: ACCOUNT.into(),
        rules: vec![rule(&["us-west-2"], &[])],
        owned_filters: ["x".to_string()].into(),
    };
    assert_eq!(registry.foreign_rules().len(), 1);
}

#[test]
fn foreign_destinations_count_toward_the_25_destination_limit() {
    let regions: Vec<String> = (0..24).map(|i| format!("xx-test-{}", i + 1)).collect();
    let foreign: Vec<&str> = regions.iter().map(String::as_str).collect();
    let registry = Registry {
        account_id: ACCOUNT.into(),
        rules: vec![rule(&foreign, &["someone-else"])],
        owned_filters: BTreeSet::new(),
    };
    assert!(ids(&registry, &[&["us-west-2"]]).is_empty(), "25 fit");
    assert_eq!(
        ids(&registry, &[&["us-west-2", "eu-west-1"]]),
        vec!["CIB021"]
    );
}

#[test]
fn a_template_without_replicas_is_never_refused_by_the_registry() {
    let mut rules = nine_foreign();
    rules.push(rule(&["us-west-2"], &["a"]));
    rules.push(rule(&["eu-west-1"], &["b"]));
    let registry = Registry {
        account_id: ACCOUNT.into(),
        rules,
        owned_filters: BTreeSet::new(),
    };
    assert!(ids(&registry, &[&[]]).is_empty());
}
