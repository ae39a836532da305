//! The provider Lambda: the `lambda_runtime` loop around [`cib_provider::Provider`].

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cib_provider::aws::Clients;
use cib_provider::{Provider, Settings};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

/// The invocation's deadline as an `Instant` (the context gives epoch milliseconds).
fn deadline_of(deadline_ms: u64) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let provider = Arc::new(Provider::new(
        Clients::from_env().await,
        Settings::from_env(),
    ));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let provider = Arc::clone(&provider);
        async move {
            let deadline = deadline_of(event.context.deadline);
            provider
                .handle(event.payload, deadline)
                .await
                .map_err(Error::from)
        }
    }))
    .await
}
