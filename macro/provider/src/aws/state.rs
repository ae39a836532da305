//! DynamoDB calls on the support stack's state table (key `pk`, string; TTL attribute
//! `expiresAt`, epoch seconds): conditional lease writes for the replication lock, and
//! plain text items for the record of what a resource added.
//!
//! Conditional writes: a `PutItem`/`DeleteItem` with a `ConditionExpression` that does not
//! hold fails with `ConditionalCheckFailedException` and changes nothing
//! (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;

use super::describe;
use crate::error::ProviderError;

/// The table's partition key.
pub const KEY: &str = "pk";
/// The table's TTL attribute (epoch seconds).
pub const EXPIRES_AT: &str = "expiresAt";
/// Who holds a lease.
const OWNER: &str = "owner";
/// A readable description of the holder, for error messages.
const HOLDER: &str = "holder";
/// The text payload of a record item.
const BODY: &str = "body";

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn aws<E>(operation: &'static str, e: &SdkError<E>) -> ProviderError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    ProviderError::Aws {
        operation,
        message: describe(e),
    }
}

/// Writes the lease item `pk` for `owner` until `expires_at` (epoch seconds) if there is
/// none or the one there expired before `now`. TTL deletion is lazy (an expired item can
/// stay readable for days:
/// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html),
/// so the condition compares `expiresAt` itself. `Ok(false)`: someone else holds it.
pub async fn put_lease(
    client: &Client,
    table: &str,
    pk: &str,
    owner: &str,
    holder: &str,
    now: u64,
    expires_at: u64,
) -> Result<bool, ProviderError> {
    let result = client
        .put_item()
        .table_name(table)
        .item(KEY, s(pk))
        .item(OWNER, s(owner))
        .item(HOLDER, s(holder))
        .item(EXPIRES_AT, n(expires_at))
        .condition_expression("attribute_not_exists(#pk) OR #exp < :now")
        .expression_attribute_names("#pk", KEY)
        .expression_attribute_names("#exp", EXPIRES_AT)
        .expression_attribute_values(":now", n(now))
        .send()
        .await;
    match result {
        Ok(_) => Ok(true),
        Err(e) => match e.as_service_error() {
            Some(PutItemError::ConditionalCheckFailedException(_)) => Ok(false),
            _ => Err(aws("DynamoDB PutItem", &e)),
        },
    }
}

/// Deletes the lease item `pk` only if `owner` still holds it. `Ok(false)`: it was not
/// ours any more (the lease ran out and someone else took it), nothing was deleted.
pub async fn delete_lease(
    client: &Client,
    table: &str,
    pk: &str,
    owner: &str,
) -> Result<bool, ProviderError> {
    let result = client
        .delete_item()
        .table_name(table)
        .key(KEY, s(pk))
        .condition_expression("#owner = :owner")
        .expression_attribute_names("#owner", OWNER)
        .expression_attribute_values(":owner", s(owner))
        .send()
        .await;
    match result {
        Ok(_) => Ok(true),
        Err(e) => match e.as_service_error() {
            Some(DeleteItemError::ConditionalCheckFailedException(_)) => Ok(false),
            _ => Err(aws("DynamoDB DeleteItem", &e)),
        },
    }
}

/// Who holds the lease `pk` (its `holder` text), if anyone; for error messages.
pub async fn lease_holder(
    client: &Client,
    table: &str,
    pk: &str,
) -> Result<Option<String>, ProviderError> {
    string_attribute(client, table, pk, HOLDER).await
}

/// The text stored under `pk`, if the item exists (strongly consistent read).
pub async fn get_text(
    client: &Client,
    table: &str,
    pk: &str,
) -> Result<Option<String>, ProviderError> {
    string_attribute(client, table, pk, BODY).await
}

/// The string attribute `name` of the item `pk`, if both exist (strongly consistent read).
async fn string_attribute(
    client: &Client,
    table: &str,
    pk: &str,
    name: &str,
) -> Result<Option<String>, ProviderError> {
    let out = client
        .get_item()
        .table_name(table)
        .key(KEY, s(pk))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| aws("DynamoDB GetItem", &e))?;
    Ok(out
        .item()
        .and_then(|i| i.get(name))
        .and_then(|v| v.as_s().ok())
        .cloned())
}

/// Stores `text` under `pk` (no expiry).
pub async fn put_text(
    client: &Client,
    table: &str,
    pk: &str,
    text: &str,
) -> Result<(), ProviderError> {
    client
        .put_item()
        .table_name(table)
        .item(KEY, s(pk))
        .item(BODY, s(text))
        .send()
        .await
        .map_err(|e| aws("DynamoDB PutItem", &e))?;
    Ok(())
}

/// Deletes the item `pk` (no error if it is not there).
pub async fn delete(client: &Client, table: &str, pk: &str) -> Result<(), ProviderError> {
    client
        .delete_item()
        .table_name(table)
        .key(KEY, s(pk))
        .send()
        .await
        .map_err(|e| aws("DynamoDB DeleteItem", &e))?;
    Ok(())
}
