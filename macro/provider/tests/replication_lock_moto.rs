//! The replication lock and the record of added filters, against moto's ECR registry
//! configuration and DynamoDB (the support stack's state table).

mod common;

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use cib_provider::Provider;
use cib_provider::aws::Clients;
use common::*;
use serde_json::{Value, json};

const REPLICATION: &str = "Custom::ContainerImageBuildReplication";
const STACK_A: &str =
    "arn:aws:cloudformation:us-east-1:123456789012:stack/a/aaaaaaaa-2222-3333-4444-555555555555";
const STACK_B: &str =
    "arn:aws:cloudformation:us-east-1:123456789012:stack/b/bbbbbbbb-2222-3333-4444-555555555555";
const LOCK: &str = "lock#ecr-replication#123456789012#us-east-1";

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

fn event(env: &Env, stack: &str, kind: &str, request_id: &str, filters: &[&str]) -> Value {
    let mut e = cfn_event(
        env,
        kind,
        request_id,
        REPLICATION,
        &props(filters),
        None,
        (kind != "Create").then_some("ContainerImageBuildReplication-0123456789abcdef"),
    );
    e["StackId"] = json!(stack);
    e["LogicalResourceId"] = json!("ContainerImageBuildReplication");
    e
}

async fn live_filters(env: &Env) -> Vec<String> {
    let out = env
        .ecr(HOME)
        .describe_registry()
        .send()
        .await
        .expect("describe registry");
    let mut filters: Vec<String> = out
        .replication_configuration()
        .map(|c| c.rules())
        .unwrap_or_default()
        .iter()
        .flat_map(|r| {
            r.repository_filters()
                .iter()
                .map(|f| f.filter().to_string())
        })
        .collect();
    filters.sort();
    filters
}

fn answer(env: &Env, request_id: &str) -> Value {
    let puts = env
        .recorder
        .puts_to(&format!("/cfn/{request_id}?X-Amz-Signature=x"));
    assert_eq!(puts.len(), 1, "one answer to {request_id}");
    puts[0].json()
}

/// Stack A's writer reads, is delayed 1.5 s (as a write slowed by SDK retries), then
/// writes; stack B's writer starts 0.3 s later and is fast.
async fn race(
    env: &Env,
    settings_slow: cib_provider::Settings,
    settings_fast: cib_provider::Settings,
) {
    let slow = Provider::new(Clients::new(env.provider_sdk.clone()), settings_slow);
    let fast = Provider::new(Clients::new(env.provider_sdk.clone()), settings_fast);
    let a = env
        .play(&event(env, STACK_A, "Create", "a-1", &["a-api"]))
        .await;
    let b = env
        .play(&event(env, STACK_B, "Create", "b-1", &["b-api"]))
        .await;
    let deadline = Instant::now() + Duration::from_secs(120);
    let first = tokio::spawn(async move { slow.handle(a, deadline).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = tokio::spawn(async move { fast.handle(b, deadline).await });
    first.await.expect("join").expect("handled");
    second.await.expect("join").expect("handled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_writers_keep_both_stacks_filters() {
    let env = setup().await;
    seed_replication_rule(&env, &["team-b/"]).await;
    let slow = cib_provider::Settings {
        replication_write_delay: Duration::from_millis(1500),
        ..test_settings()
    };
    race(&env, slow, test_settings()).await;
    assert_eq!(answer(&env, "a-1")["Status"], "SUCCESS");
    assert_eq!(answer(&env, "b-1")["Status"], "SUCCESS");
    assert_eq!(live_filters(&env).await, vec!["a-api", "b-api", "team-b/"]);
    let lock = env
        .dynamodb()
        .get_item()
        .table_name(STATE_TABLE)
        .key("pk", AttributeValue::S(LOCK.into()))
        .send()
        .await
        .expect("get lock");
    assert!(lock.item().is_none(), "the lock is released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_lock_the_delayed_write_drops_the_other_stacks_filters() {
    // The same race with no state table: both verify their own write and answer SUCCESS,
    // and the slower write has dropped the faster one's filter. This is what the lock is for.
    let env = setup().await;
    seed_replication_rule(&env, &["team-b/"]).await;
    let unlocked = cib_provider::Settings {
        state_table: None,
        ..test_settings()
    };
    let slow = cib_provider::Settings {
        replication_write_delay: Duration::from_millis(1500),
        ..unlocked.clone()
    };
    race(&env, slow, unlocked).await;
    assert_eq!(answer(&env, "a-1")["Status"], "SUCCESS");
    assert_eq!(answer(&env, "b-1")["Status"], "SUCCESS");
    assert_eq!(live_filters(&env).await, vec!["a-api", "team-b/"]);
}

async fn put_lease(env: &Env, expires_at: i64) {
    env.dynamodb()
        .put_item()
        .table_name(STATE_TABLE)
        .item("pk", AttributeValue::S(LOCK.into()))
        .item("owner", AttributeValue::S("someone-else".into()))
        .item(
            "holder",
            AttributeValue::S("stack other resource ContainerImageBuildReplication".into()),
        )
        .item("expiresAt", AttributeValue::N(expires_at.to_string()))
        .send()
        .await
        .expect("put lease");
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_held_too_long_fails_with_a_clear_reason_and_an_expired_one_is_taken() {
    let env = setup().await;
    seed_replication_rule(&env, &["team-b/"]).await;
    put_lease(&env, now() + 3600).await;
    let impatient = Provider::new(
        Clients::new(env.provider_sdk.clone()),
        cib_provider::Settings {
            lock_wait: Duration::from_millis(400),
            ..test_settings()
        },
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    impatient
        .handle(
            env.play(&event(&env, STACK_A, "Create", "t-1", &["a-api"]))
                .await,
            deadline,
        )
        .await
        .expect("handled");
    let v = answer(&env, "t-1");
    assert_eq!(v["Status"], "FAILED");
    let reason = v["Reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("stack other resource ContainerImageBuildReplication"),
        "{reason}"
    );
    assert!(reason.contains("gave up"), "{reason}");
    assert_eq!(live_filters(&env).await, vec!["team-b/"], "nothing written");

    // The holder crashed: once its lease has run out, the lock is taken over.
    put_lease(&env, now() - 1).await;
    impatient
        .handle(
            env.play(&event(&env, STACK_A, "Create", "t-2", &["a-api"]))
                .await,
            deadline,
        )
        .await
        .expect("handled");
    assert_eq!(answer(&env, "t-2")["Status"], "SUCCESS");
    assert_eq!(live_filters(&env).await, vec!["a-api", "team-b/"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filter_that_existed_before_create_survives_the_stacks_update_and_delete() {
    let env = setup().await;
    // `shared` was there before the stack (a person's, or another stack's).
    seed_replication_rule(&env, &["team-b/", "shared"]).await;
    env.handle(&event(&env, STACK_A, "Create", "o-1", &["shared", "a-api"]))
        .await;
    assert_eq!(answer(&env, "o-1")["Status"], "SUCCESS");
    assert_eq!(live_filters(&env).await, vec!["a-api", "shared", "team-b/"]);

    // An update that no longer asks for `shared` leaves it: it was never this stack's.
    let mut update = event(&env, STACK_A, "Update", "o-2", &["a-api", "a-web"]);
    update["OldResourceProperties"] = props(&["shared", "a-api"]);
    env.handle(&update).await;
    assert_eq!(answer(&env, "o-2")["Status"], "SUCCESS");
    assert_eq!(
        live_filters(&env).await,
        vec!["a-api", "a-web", "shared", "team-b/"]
    );

    // Delete removes what the stack added, whatever its properties say.
    env.handle(&event(&env, STACK_A, "Delete", "o-3", &["shared"]))
        .await;
    assert_eq!(answer(&env, "o-3")["Status"], "SUCCESS");
    assert_eq!(live_filters(&env).await, vec!["shared", "team-b/"]);
    let record = env
        .dynamodb()
        .get_item()
        .table_name(STATE_TABLE)
        .key(
            "pk",
            AttributeValue::S(format!(
                "replication-owned#{STACK_A}#ContainerImageBuildReplication"
            )),
        )
        .send()
        .await
        .expect("get record");
    assert!(record.item().is_none(), "the record goes with the resource");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_record_is_written_before_the_answer() {
    let env = setup().await;
    env.handle(&event(&env, STACK_B, "Create", "w-1", &["b-api"]))
        .await;
    assert_eq!(answer(&env, "w-1")["Status"], "SUCCESS");
    let record = env
        .dynamodb()
        .get_item()
        .table_name(STATE_TABLE)
        .key(
            "pk",
            AttributeValue::S(format!(
                "replication-owned#{STACK_B}#ContainerImageBuildReplication"
            )),
        )
        .send()
        .await
        .expect("get record");
    let body = record
        .item()
        .and_then(|i| i.get("body"))
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default();
    let v: Value = serde_json::from_str(&body).expect("record is JSON");
    assert_eq!(v["rules"][0]["filters"], json!(["b-api"]));
    assert_eq!(v["rules"][0]["destinations"][0]["region"], "us-west-2");
}
