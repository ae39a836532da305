//! Lambda Invoke: the provider hands a request on to a later invocation of itself.

use aws_sdk_lambda::Client;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use serde_json::Value;

use super::describe;
use crate::error::ProviderError;

/// Invokes `function` asynchronously (`InvocationType: Event`; Lambda queues the event and
/// answers 202 at once) with `payload`.
pub async fn invoke_async(
    client: &Client,
    function: &str,
    payload: &Value,
) -> Result<(), ProviderError> {
    let body = serde_json::to_vec(payload).map_err(|e| ProviderError::Aws {
        operation: "Lambda Invoke",
        message: format!("payload not serializable: {e}"),
    })?;
    client
        .invoke()
        .function_name(function)
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(body))
        .send()
        .await
        .map_err(|e| ProviderError::Aws {
            operation: "Lambda Invoke",
            message: describe(&e),
        })?;
    Ok(())
}
