//! The HTTP client shared by the registry client and ECR layer downloads: HTTPS with the
//! system's roots (plain HTTP only where a caller allows it), bodies streamed or read with
//! a cap.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use http_body_util::{BodyExt, BodyStream, Empty};
use hyper::body::Incoming;
use hyper::{Request, Response, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::error::{Error, Result};
use crate::stream::BlobStream;

/// How long a request may wait for its response headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(60);

/// A pooled HTTP/1.1 client for GET requests.
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl HttpClient {
    /// A client that trusts the system's root certificates.
    pub fn new() -> Result<HttpClient> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| Error::Registry {
                url: String::from("(TLS setup)"),
                message: format!("no TLS root certificates: {e}"),
            })?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(HttpClient {
            inner: Client::builder(TokioExecutor::new()).build(https),
        })
    }

    /// Sends a GET with `headers`; fails on transport errors and timeouts only.
    pub async fn get(&self, url: &str, headers: &[(&str, String)]) -> Result<Response<Incoming>> {
        let uri: Uri = url.parse().map_err(|e| Error::Registry {
            url: url.to_owned(),
            message: format!("not a URL: {e}"),
        })?;
        let mut builder = Request::get(uri).header("user-agent", "cib-registry");
        for (name, value) in headers {
            builder = builder.header(*name, value.as_str());
        }
        let request = builder.body(Empty::new()).map_err(|e| Error::Registry {
            url: url.to_owned(),
            message: format!("cannot build the request: {e}"),
        })?;
        match tokio::time::timeout(HEADER_TIMEOUT, self.inner.request(request)).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => Err(Error::Registry {
                url: redact(url),
                message: format!("request failed: {e}"),
            }),
            Err(_) => Err(Error::Registry {
                url: redact(url),
                message: format!("no response within {HEADER_TIMEOUT:?}"),
            }),
        }
    }
}

/// Reads a response body whole, refusing more than `limit` bytes.
pub async fn read_limited(response: Response<Incoming>, url: &str, limit: u64) -> Result<Bytes> {
    let mut body = BodyStream::new(response.into_body());
    let mut out = BytesMut::new();
    while let Some(frame) = body.next().await {
        let frame = frame.map_err(|e| Error::Registry {
            url: redact(url),
            message: format!("reading the body failed: {e}"),
        })?;
        if let Ok(data) = frame.into_data() {
            if out.len() as u64 + data.len() as u64 > limit {
                return Err(Error::Registry {
                    url: redact(url),
                    message: format!("the body is larger than {limit} bytes"),
                });
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out.freeze())
}

/// A response body as a blob stream (not yet verified).
pub fn body_stream(response: Response<Incoming>, url: &str) -> BlobStream {
    let url = redact(url);
    Box::pin(response.into_body().into_data_stream().map(move |chunk| {
        chunk.map_err(|e| Error::Registry {
            url: url.clone(),
            message: format!("reading the body failed: {e}"),
        })
    }))
}

/// A URL without its query (presigned URLs carry credentials there).
pub fn redact(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?…"),
        None => url.to_owned(),
    }
}

/// The first bytes of an error body, for messages.
pub async fn error_text(response: Response<Incoming>) -> String {
    let status = response.status();
    let body = read_limited(response, "", 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body[..body.len().min(300)])
        .trim()
        .to_owned();
    if text.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {text}")
    }
}
