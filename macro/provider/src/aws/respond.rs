//! The HTTP PUT of the response body to CloudFormation's presigned URL.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::error::ProviderError;

/// Attempts before giving up on a PUT (network errors, timeouts and 5xx answers are
/// retried).
pub const PUT_ATTEMPTS: u32 = 4;

/// Longest time one PUT attempt may take, connection included: a response endpoint that
/// accepts the connection and never answers must not hold the invocation until Lambda's
/// own timeout (the answer would then never be sent).
pub const PUT_TIMEOUT: Duration = Duration::from_secs(20);

/// PUTs `body` to `url` (https, or http for local test endpoints). The presigned URL is
/// signed without a content type, so none is sent.
pub async fn put(url: &str, body: Vec<u8>) -> Result<(), ProviderError> {
    put_with_timeout(url, body, PUT_TIMEOUT).await
}

/// [`put`] with another per-attempt timeout.
pub async fn put_with_timeout(
    url: &str,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<(), ProviderError> {
    let uri: hyper::Uri = url
        .parse()
        .map_err(|e| ProviderError::Response(format!("response URL is not a URL: {e}")))?;
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| ProviderError::Response(format!("no TLS root certificates: {e}")))?
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    let body = Bytes::from(body);
    let mut last = String::new();
    for attempt in 0..PUT_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(250 * 2u64.pow(attempt))).await;
        }
        let request = Request::builder()
            .method(Method::PUT)
            .uri(uri.clone())
            .header("content-length", body.len())
            .body(Full::new(body.clone()))
            .map_err(|e| ProviderError::Response(format!("cannot build the PUT: {e}")))?;
        match tokio::time::timeout(timeout, client.request(request)).await {
            Ok(Ok(resp)) if resp.status().is_success() => return Ok(()),
            Ok(Ok(resp)) if resp.status().is_server_error() => {
                last = format!("HTTP {}", resp.status());
            }
            Ok(Ok(resp)) => {
                return Err(ProviderError::Response(format!(
                    "the response URL answered HTTP {}",
                    resp.status()
                )));
            }
            Ok(Err(e)) => last = e.to_string(),
            Err(_) => last = format!("no answer within {} ms", timeout.as_millis()),
        }
    }
    Err(ProviderError::Response(format!(
        "{PUT_ATTEMPTS} attempts failed, last: {last}"
    )))
}
