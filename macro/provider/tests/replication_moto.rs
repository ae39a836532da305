//! The replication resource against moto's ECR registry configuration.
//!
//! moto accepts at most one rule per configuration ("This feature is disabled" otherwise),
//! so these tests keep foreign and template rules on one destination set; the merge across
//! several rules is covered by the unit tests of `replication`.

mod common;

use common::*;
use serde_json::{Value, json};

const REPLICATION: &str = "Custom::ContainerImageBuildReplication";

fn props(filters: &[&str]) -> Value {
    json!({
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:ContainerImageBuild-Provider",
        "ContractVersion": "1",
        "Rules": [{
            "Destinations": [{"Region": "us-west-2", "RegistryId": ACCOUNT}],
            "RepositoryFilters": filters.iter().map(|f| json!({"Filter": f, "FilterType": "PREFIX_MATCH"})).collect::<Vec<_>>()
        }]
    })
}

async fn live_filters(env: &Env) -> Vec<Vec<String>> {
    let out = env
        .ecr(HOME)
        .describe_registry()
        .send()
        .await
        .expect("describe registry");
    out.replication_configuration()
        .map(|c| c.rules())
        .unwrap_or_default()
        .iter()
        .map(|r| {
            r.repository_filters()
                .iter()
                .map(|f| f.filter().to_string())
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merges_into_foreign_rules_and_delete_leaves_them_intact() {
    let env = setup().await;
    seed_replication_rule(&env, &["team-b/".to_string()]).await;
    let ours = props(&["stack-api", "stack-web"]);
    env.handle(&cfn_event(
        &env,
        "Create",
        "r-1",
        REPLICATION,
        &ours,
        None,
        None,
    ))
    .await;
    let v = env.recorder.puts_to("/cfn/r-1?X-Amz-Signature=x")[0].json();
    assert_eq!(v["Status"], "SUCCESS", "{v}");
    assert_eq!(
        live_filters(&env).await,
        vec![vec!["team-b/", "stack-api", "stack-web"]]
    );

    // An update that drops one repository removes only that filter.
    let physical = v["PhysicalResourceId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let fewer = props(&["stack-api"]);
    env.handle(&cfn_event(
        &env,
        "Update",
        "r-2",
        REPLICATION,
        &fewer,
        Some(&ours),
        Some(&physical),
    ))
    .await;
    assert_eq!(live_filters(&env).await, vec![vec!["team-b/", "stack-api"]]);

    env.handle(&cfn_event(
        &env,
        "Delete",
        "r-3",
        REPLICATION,
        &fewer,
        None,
        Some(&physical),
    ))
    .await;
    let v = env.recorder.puts_to("/cfn/r-3?X-Amz-Signature=x")[0].json();
    assert_eq!(v["Status"], "SUCCESS");
    assert_eq!(v["PhysicalResourceId"], physical.as_str());
    assert_eq!(
        live_filters(&env).await,
        vec![vec!["team-b/"]],
        "the foreign rule survives"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_breach_is_refused_without_writing() {
    let env = setup().await;
    let foreign: Vec<String> = (0..100).map(|i| format!("team-{i}/")).collect();
    seed_replication_rule(&env, &foreign).await;
    let before = live_filters(&env).await;
    env.handle(&cfn_event(
        &env,
        "Create",
        "l-1",
        REPLICATION,
        &props(&["stack-api"]),
        None,
        None,
    ))
    .await;
    let v = env.recorder.puts()[0].json();
    assert_eq!(v["Status"], "FAILED");
    let reason = v["Reason"].as_str().unwrap_or_default();
    assert!(reason.contains("101 repository filters"), "{reason}");
    assert!(reason.contains("limit of 100"), "{reason}");
    assert_eq!(live_filters(&env).await, before, "nothing was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_of_a_resource_that_never_wrote_succeeds() {
    let env = setup().await;
    seed_replication_rule(&env, &["team-b/".to_string()]).await;
    env.handle(&cfn_event(
        &env,
        "Delete",
        "x-1",
        REPLICATION,
        &props(&["stack-api"]),
        None,
        Some("ContainerImageBuildReplication-1"),
    ))
    .await;
    assert_eq!(env.recorder.puts()[0].json()["Status"], "SUCCESS");
    assert_eq!(live_filters(&env).await, vec![vec!["team-b/"]]);
}
