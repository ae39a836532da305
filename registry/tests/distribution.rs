//! The registry client's token flow and redirects, against a small fake registry that
//! demands a bearer token (as Docker Hub, ghcr.io and public.ecr.aws do) and sends blobs
//! to another path with a redirect (as registries backed by object storage do).

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use cib_registry::copy::Source;
use cib_registry::manifest::Parsed;
use cib_registry::{Credentials, ImageReference, RegistryClient};
use common::single_platform;
use futures_util::TryStreamExt;

/// What the fake registry saw: each request's path, and its Authorization header.
type Log = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// Serves `blobs` (by digest) and `manifest` under `/v2/app/`, behind a token from
/// `/token`; blobs answer with a redirect to `http://localhost:<port>/storage/<digest>`
/// (another origin), which needs no token.
fn fake_registry(manifest: (Vec<u8>, String), blobs: HashMap<String, Vec<u8>>) -> (String, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let host = format!("127.0.0.1:{}", listener.local_addr().expect("addr").port());
    let log: Log = Arc::default();
    let seen = Arc::clone(&log);
    let realm = format!("http://{host}/token");
    // Blob storage on another origin (same server, other host name), as S3 or a CDN is.
    let storage = format!(
        "http://localhost:{}/storage",
        listener.local_addr().expect("addr").port()
    );
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .to_owned();
            let mut authorization = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("authorization")
                {
                    authorization = Some(value.trim().to_owned());
                }
            }
            seen.lock()
                .expect("log")
                .push((path.clone(), authorization.clone()));
            let authorized = authorization.as_deref() == Some("Bearer secret-token");
            let (status, headers, body): (&str, Vec<String>, Vec<u8>) = if path
                .starts_with("/token?")
            {
                (
                    "200 OK",
                    vec!["Content-Type: application/json".into()],
                    br#"{"token":"secret-token"}"#.to_vec(),
                )
            } else if let Some(digest) = path.strip_prefix("/storage/") {
                match blobs.get(digest) {
                    Some(b) => ("200 OK", vec![], b.clone()),
                    None => ("404 Not Found", vec![], Vec::new()),
                }
            } else if !authorized {
                (
                    "401 Unauthorized",
                    vec![format!(
                        "WWW-Authenticate: Bearer realm=\"{realm}\",service=\"fake\",scope=\"repository:app:pull\""
                    )],
                    Vec::new(),
                )
            } else if path.starts_with("/v2/app/manifests/") {
                (
                    "200 OK",
                    vec![format!("Content-Type: {}", manifest.1)],
                    manifest.0.clone(),
                )
            } else if let Some(digest) = path.strip_prefix("/v2/app/blobs/") {
                (
                    "307 Temporary Redirect",
                    vec![format!("Location: {storage}/{digest}")],
                    Vec::new(),
                )
            } else {
                ("404 Not Found", vec![], Vec::new())
            };
            let mut response = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for header in headers {
                response.push_str(&header);
                response.push_str("\r\n");
            }
            response.push_str("\r\n");
            let _ = stream.write_all(response.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    (host, log)
}

#[tokio::test]
async fn a_bearer_challenge_is_answered_with_a_token_and_blobs_follow_redirects() {
    let layout = single_platform("fake");
    let blobs: HashMap<String, Vec<u8>> = layout
        .blobs
        .iter()
        .map(|(d, b)| (d.to_string(), b.clone()))
        .collect();
    let (host, log) = fake_registry((layout.root.0.clone(), layout.root.2.to_owned()), blobs);
    let reference = ImageReference::parse(&format!("{host}/app:v1")).expect("reference");
    let credentials = Credentials {
        username: "user".into(),
        password: "pass".into(),
    };
    let client = RegistryClient::new(&reference, Some(credentials)).expect("client");
    let manifest = client.manifest("v1", None).await.expect("manifest");
    assert_eq!(manifest.bytes.as_ref(), layout.root.0.as_slice());
    let Ok(Parsed::Image { config, layers }) = manifest.parse() else {
        panic!("image")
    };
    for blob in std::iter::once(config).chain(layers) {
        let chunks: Vec<bytes::Bytes> = client
            .blob(&blob)
            .await
            .expect("blob")
            .try_collect()
            .await
            .expect("verified blob");
        assert_eq!(
            chunks.iter().map(|c| c.len() as u64).sum::<u64>(),
            blob.size
        );
    }
    let log = log.lock().expect("log").clone();
    let token_requests: Vec<_> = log
        .iter()
        .filter(|(p, _)| p.starts_with("/token?"))
        .collect();
    assert_eq!(token_requests.len(), 1, "one token, reused: {log:?}");
    let (token_path, token_auth) = token_requests[0];
    assert_eq!(
        token_path,
        "/token?service=fake&scope=repository%3Aapp%3Apull"
    );
    assert_eq!(
        token_auth.as_deref(),
        Some("Basic dXNlcjpwYXNz"),
        "basic credentials go to the token service"
    );
    // The token never goes to blob storage on another origin.
    assert!(
        log.iter()
            .filter(|(p, _)| p.starts_with("/storage/"))
            .all(|(_, a)| a.is_none()),
        "{log:?}"
    );

    // A digest that the served content does not match fails, naming the blob.
    let mut wrong = manifest
        .parse()
        .ok()
        .and_then(|p| match p {
            Parsed::Image { layers, .. } => layers.into_iter().next(),
            Parsed::Index { .. } => None,
        })
        .expect("a layer");
    wrong.size += 1;
    let err = client
        .blob(&wrong)
        .await
        .expect("blob")
        .try_collect::<Vec<bytes::Bytes>>()
        .await
        .expect_err("size mismatch");
    assert!(err.to_string().contains(wrong.digest.as_str()), "{err}");
}
