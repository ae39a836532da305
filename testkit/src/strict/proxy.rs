//! The HTTP proxy that puts the strict checks in front of moto.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::http::request::Parts;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::authorize::{self, Denied, Principal};
use super::{
    Caller, Refusal, Violation, builds, check, cloudformation, codebuild, ecr,
    region_of_authorization, s3,
};

type Upstream = Client<HttpConnector, Full<Bytes>>;

/// Headers that belong to one connection, not to the request or response they travel with.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
];

/// The region a request without a SigV4 scope is taken to address.
const DEFAULT_REGION: &str = "us-east-1";

/// An HTTP proxy on 127.0.0.1 in front of a moto server: it answers requests that break an
/// AWS limit itself (HTTP 400, AWS's exception name) and forwards everything else unchanged.
/// It stops when dropped.
pub struct StrictProxy {
    addr: SocketAddr,
    refusals: Arc<Mutex<Vec<Refusal>>>,
    operations: Arc<Mutex<Vec<String>>>,
    played: Arc<Mutex<cloudformation::Played>>,
    builds: Arc<Mutex<builds::Declared>>,
    unowned_s3_calls: Arc<Mutex<Vec<String>>>,
    principals: Arc<Mutex<BTreeMap<String, Principal>>>,
    denied: Arc<Mutex<Vec<Denied>>>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    upstream: Upstream,
    upstream_base: String,
    account: String,
    refusals: Arc<Mutex<Vec<Refusal>>>,
    operations: Arc<Mutex<Vec<String>>>,
    played: Arc<Mutex<cloudformation::Played>>,
    builds: Arc<Mutex<builds::Declared>>,
    unowned_s3_calls: Arc<Mutex<Vec<String>>>,
    /// Access key id to the principal whose requests are authorized (see [`authorize`]).
    principals: Arc<Mutex<BTreeMap<String, Principal>>>,
    denied: Arc<Mutex<Vec<Denied>>>,
    /// StartBuild idempotency tokens: token to (parameters, when first used).
    tokens: Mutex<std::collections::BTreeMap<String, (String, std::time::Instant)>>,
}

impl StrictProxy {
    /// Starts a proxy on a free port of 127.0.0.1 that forwards to `http://127.0.0.1:<port>`,
    /// a registry of account `account`.
    ///
    /// Panics if no port can be bound or the runtime cannot start (a fixture failing is a
    /// test failure).
    pub fn start(upstream_port: u16, account: &str) -> StrictProxy {
        let listener = match std::net::TcpListener::bind("127.0.0.1:0") {
            Ok(l) => l,
            Err(e) => panic!("strict proxy: cannot bind 127.0.0.1:0: {e}"),
        };
        let addr = match listener.local_addr() {
            Ok(a) => a,
            Err(e) => panic!("strict proxy: no local address: {e}"),
        };
        if let Err(e) = listener.set_nonblocking(true) {
            panic!("strict proxy: cannot make the listener non-blocking: {e}");
        }
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(r) => r,
            Err(e) => panic!("strict proxy: cannot start a runtime: {e}"),
        };
        let refusals: Arc<Mutex<Vec<Refusal>>> = Arc::default();
        let operations: Arc<Mutex<Vec<String>>> = Arc::default();
        let played: Arc<Mutex<cloudformation::Played>> = Arc::default();
        let builds: Arc<Mutex<builds::Declared>> = Arc::default();
        let unowned_s3_calls: Arc<Mutex<Vec<String>>> = Arc::default();
        let principals: Arc<Mutex<BTreeMap<String, Principal>>> = Arc::default();
        let denied: Arc<Mutex<Vec<Denied>>> = Arc::default();
        let shared = Arc::new(Shared {
            upstream: Client::builder(TokioExecutor::new()).build_http(),
            upstream_base: format!("http://127.0.0.1:{upstream_port}"),
            account: account.to_string(),
            refusals: Arc::clone(&refusals),
            operations: Arc::clone(&operations),
            played: Arc::clone(&played),
            builds: Arc::clone(&builds),
            unowned_s3_calls: Arc::clone(&unowned_s3_calls),
            principals: Arc::clone(&principals),
            denied: Arc::clone(&denied),
            tokens: Mutex::default(),
        });
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::spawn(move || runtime.block_on(serve(listener, shared, stopped)));
        StrictProxy {
            addr,
            refusals,
            operations,
            played,
            builds,
            unowned_s3_calls,
            principals,
            denied,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Authorizes every later request signed with `access_key` as IAM would for a principal
    /// named `name` holding `policies` (resolved identity-policy documents); see
    /// [`authorize`].
    pub fn enforce(&self, access_key: &str, name: &str, policies: Vec<Value>) {
        locked(&self.principals).insert(
            access_key.to_string(),
            Principal {
                name: name.to_string(),
                policies,
            },
        );
    }

    /// Every request denied so far, taken (a test that expects denials takes them, so
    /// that the server's check when it stops does not count them again).
    pub fn take_denied(&self) -> Vec<Denied> {
        std::mem::take(&mut *locked(&self.denied))
    }

    /// The port the proxy listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, in arrival order, refused or not: the `X-Amz-Target`
    /// of a JSON-protocol call (`AmazonEC2ContainerRegistry_V20150921.PutImage`), else
    /// `<METHOD> <path>` (S3's REST calls: `GET /bucket/key`).
    pub fn operations(&self) -> Vec<String> {
        locked(&self.operations).clone()
    }

    /// Declares that moto stack `moto_stack_id` plays the stack `stack_id` from now on (see
    /// [`cloudformation`]).
    pub fn play_stack(&self, stack_id: &str, moto_stack_id: &str) {
        self.with_played(|p| {
            p.stacks
                .insert(stack_id.to_string(), moto_stack_id.to_string());
        });
    }

    /// Declares the status and physical id CloudFormation shows for resource `logical_id`
    /// of stack `stack_id` while it waits for the provider (see [`cloudformation`]).
    pub fn set_resource_state(
        &self,
        stack_id: &str,
        logical_id: &str,
        status: &str,
        physical_id: Option<&str>,
    ) {
        self.with_played(|p| {
            p.resources.insert(
                (stack_id.to_string(), logical_id.to_string()),
                (status.to_string(), physical_id.map(str::to_string)),
            );
        });
    }

    /// Declares build `id` (`project:uuid`) as CodeBuild reports it in `BatchGetBuilds`
    /// (see [`builds`]).
    pub fn declare_build(&self, id: &str, build: Value) {
        locked(&self.builds).insert(id.to_string(), build);
    }

    /// Every S3 call so far that could name its bucket's owner and did not (`<METHOD>
    /// <path>`; see [`s3`]).
    pub fn unowned_s3_calls(&self) -> Vec<String> {
        locked(&self.unowned_s3_calls).clone()
    }

    /// Declares the status of stack `stack_id` (`DescribeStacks`), e.g. during an update
    /// rollback (see [`cloudformation`]).
    pub fn set_stack_status(&self, stack_id: &str, status: &str) {
        self.with_played(|p| {
            p.stack_status
                .insert(stack_id.to_string(), status.to_string());
        });
    }

    fn with_played(&self, change: impl FnOnce(&mut cloudformation::Played)) {
        change(&mut locked(&self.played));
    }

    /// Every request refused so far, in arrival order.
    pub fn refusals(&self) -> Vec<Refusal> {
        locked(&self.refusals).clone()
    }
}

impl Drop for StrictProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    mut stopped: oneshot::Receiver<()>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => panic!("strict proxy: cannot register the listener: {e}"),
    };
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = service_fn(move |request| handle(Arc::clone(&shared), request));
                    // A broken connection ends that connection only.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    }
}

async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            return Ok(plain(
                StatusCode::BAD_GATEWAY,
                format!("strict proxy: cannot read the request: {e}"),
            ));
        }
    };
    // Query-protocol calls (CloudFormation) name their operation in the form body.
    let fields = if header(&parts, CONTENT_TYPE.as_str())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
    {
        cloudformation::form(&body)
    } else {
        Default::default()
    };
    let operation = header(&parts, "x-amz-target")
        .map(str::to_owned)
        .or_else(|| fields.get("Action").map(|a| format!("Action={a}")))
        .unwrap_or_else(|| format!("{} {}", parts.method, parts.uri.path()));
    locked(&shared.operations).push(operation);
    if let Some(denied) = authorized(&shared, &parts, &body) {
        return Ok(denied);
    }
    if let Some(violation) = inspect(&shared, &parts, &body).await {
        return Ok(refuse(&shared, &parts, violation));
    }
    if header(&parts, AUTHORIZATION.as_str())
        .and_then(s3::service_of_authorization)
        .as_deref()
        == Some("s3")
        && let Some(denied) = bucket_owner_condition(&shared, &parts).await
    {
        return Ok(denied);
    }
    if header(&parts, "x-amz-target")
        == Some(format!("{}.BatchGetBuilds", codebuild::TARGET_PREFIX).as_str())
    {
        return Ok(batch_get_builds(&shared, parts, body).await);
    }
    if fields.is_empty() {
        let hides_missing = reader_without_list_bucket(&shared, &parts);
        let response = forward(&shared, parts, body).await;
        if hides_missing && response.status() == StatusCode::NOT_FOUND {
            return Ok(s3_forbidden());
        }
        return Ok(response);
    }
    let played = locked(&shared.played).clone();
    let body = cloudformation::request_body(&fields, &played).map_or(body, Bytes::from);
    Ok(forward_rewritten(&shared, parts, body, |_, answer| {
        let text = std::str::from_utf8(answer).ok()?;
        cloudformation::answer(&fields, text, &played).map(String::into_bytes)
    })
    .await)
}

/// The answer AWS would give when the request's principal may not make it; `None` when it
/// may, or when its key is not one a test enforces.
fn authorized(shared: &Shared, parts: &Parts, body: &Bytes) -> Option<Response<Full<Bytes>>> {
    let Signer {
        principal,
        service,
        region,
    } = signer(shared, parts)?;
    let target = header(parts, "x-amz-target");
    let http = authorize::request::Http {
        service: &service,
        region: &region,
        account: &shared.account,
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or_default(),
        target,
        body,
    };
    let message = authorize::authorize(&principal, &http).err()?;
    locked(&shared.denied).push(Denied {
        principal: principal.name.clone(),
        message: message.clone(),
    });
    let (status, content_type, text) =
        authorize::denied_answer(&service, target.is_some(), &message);
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        HeaderName::from_static("x-amzn-requestid"),
        HeaderValue::from_static("cib-strict-layer"),
    );
    headers.insert(
        HeaderName::from_static("x-amzn-errortype"),
        HeaderValue::from_static("AccessDeniedException"),
    );
    Some(response)
}

/// Whether the request reads an S3 object for an enforced principal that may not list the
/// bucket: S3 then answers a missing object with 403, not 404 ("If you don't have the
/// s3:ListBucket permission, Amazon S3 returns an HTTP status code 403 Access Denied
/// error", S3 API reference, GetObject and HeadObject).
fn reader_without_list_bucket(shared: &Shared, parts: &Parts) -> bool {
    let Some(Signer {
        principal,
        service,
        region,
    }) = signer(shared, parts)
    else {
        return false;
    };
    let path = parts.uri.path();
    let reads_object = service == "s3"
        && matches!(parts.method.as_str(), "GET" | "HEAD")
        && path.trim_start_matches('/').contains('/');
    let Some(bucket) = s3::bucket_of(path).filter(|_| reads_object) else {
        return false;
    };
    let list = authorize::Request {
        action: "s3:ListBucket".into(),
        resources: vec![format!(
            "arn:{}:s3:::{bucket}",
            authorize::request::partition(&region)
        )],
        context: BTreeMap::new(),
    };
    authorize::evaluate(&principal.policies, &list).is_err()
}

/// Who signed a request, when a test enforces that principal: its policies and the SigV4
/// scope's service and region.
struct Signer {
    principal: Principal,
    service: String,
    region: String,
}

/// The enforced principal whose key signed the request in `parts`, if any.
fn signer(shared: &Shared, parts: &Parts) -> Option<Signer> {
    let auth = header(parts, AUTHORIZATION.as_str())?;
    let key = authorize::access_key_of_authorization(auth)?;
    let principal = locked(&shared.principals).get(key).cloned()?;
    Some(Signer {
        principal,
        service: s3::service_of_authorization(auth).unwrap_or_default(),
        region: region_of_authorization(auth).unwrap_or_else(|| DEFAULT_REGION.to_string()),
    })
}

/// S3's 403 Access Denied.
fn s3_forbidden() -> Response<Full<Bytes>> {
    let mut denied = Response::new(Full::new(Bytes::from_static(
        s3::access_denied().as_bytes(),
    )));
    *denied.status_mut() = StatusCode::FORBIDDEN;
    denied
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    denied
}

/// A lock on `mutex`, also after a panic in another request (the data stays usable).
fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Forwards the request (whose body may have been changed) and answers with moto's answer,
/// its body replaced by what `rewrite` makes of the status and body, when it makes one.
async fn forward_rewritten(
    shared: &Shared,
    mut parts: Parts,
    body: Bytes,
    rewrite: impl FnOnce(StatusCode, &[u8]) -> Option<Vec<u8>>,
) -> Response<Full<Bytes>> {
    parts.headers.remove(hyper::header::CONTENT_LENGTH);
    let (mut head, answer) = forward(shared, parts, body).await.into_parts();
    let bytes = match answer.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(never) => match never {},
    };
    match rewrite(head.status, &bytes) {
        Some(changed) => {
            head.headers.remove(hyper::header::CONTENT_LENGTH);
            Response::from_parts(head, Full::new(Bytes::from(changed)))
        }
        None => Response::from_parts(head, Full::new(bytes)),
    }
}

/// S3's bucket owner condition (see [`s3`]): the 403 S3 would answer, if it fails; records
/// a call that names no owner.
async fn bucket_owner_condition(shared: &Shared, parts: &Parts) -> Option<Response<Full<Bytes>>> {
    let path = parts.uri.path();
    let query = parts.uri.query().unwrap_or_default();
    if !s3::takes_owner(parts.method.as_str(), path, query) {
        return None;
    }
    let Some(owner) = header(parts, s3::EXPECTED_OWNER_HEADER) else {
        let call = format!("{} {path}", parts.method);
        locked(&shared.unowned_s3_calls).push(call);
        return None;
    };
    let bucket = s3::bucket_of(path)?;
    let list = on_behalf_of(shared, parts, "GET", "/").header("x-moto-account-id", owner);
    let response = shared
        .upstream
        .request(list.body(Full::new(Bytes::new())).ok()?)
        .await
        .ok()?;
    let listed = response.into_body().collect().await.ok()?.to_bytes();
    if s3::lists_bucket(&String::from_utf8_lossy(&listed), bucket) {
        return None;
    }
    // No bucket of that name at all: S3 answers 404 for it, as moto will.
    let exists = on_behalf_of(shared, parts, "HEAD", &format!("/{bucket}"));
    let exists = shared
        .upstream
        .request(exists.body(Full::new(Bytes::new())).ok()?)
        .await
        .ok()?;
    if exists.status() == StatusCode::NOT_FOUND {
        return None;
    }
    Some(s3_forbidden())
}

/// `BatchGetBuilds`, with the builds a test declared (see [`builds`]).
async fn batch_get_builds(shared: &Shared, parts: Parts, body: Bytes) -> Response<Full<Bytes>> {
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let declared = locked(&shared.builds).clone();
    forward_rewritten(shared, parts, body, |status, answer| {
        if !status.is_success() {
            return None;
        }
        let moto: Value = serde_json::from_slice(answer).unwrap_or(Value::Null);
        builds::answer(&request, &moto, &declared).map(|v| v.to_string().into_bytes())
    })
    .await
}

/// The limit a JSON-protocol request breaks, if any.
async fn inspect(shared: &Shared, parts: &Parts, body: &Bytes) -> Option<Violation> {
    let target = header(parts, "x-amz-target")?;
    let json: Value = serde_json::from_slice(body).ok()?;
    let caller = Caller {
        region: header(parts, AUTHORIZATION.as_str())
            .and_then(region_of_authorization)
            .unwrap_or_else(|| DEFAULT_REGION.to_string()),
        account: shared.account.clone(),
    };
    if let Some(violation) = check(target, &json, &caller) {
        return Some(violation);
    }
    if target == format!("{}.TagResource", ecr::TARGET_PREFIX) {
        return tags_after_tagging(shared, parts, &json).await;
    }
    if target == format!("{}.PutImage", ecr::TARGET_PREFIX) {
        return immutable_tag_taken(shared, parts, &json).await;
    }
    if target == format!("{}.StartBuild", codebuild::TARGET_PREFIX) {
        return reused_token(shared, &json);
    }
    None
}

/// A StartBuild token repeated with other parameters within CodeBuild's window (see
/// [`codebuild::token_mismatch`]).
fn reused_token(shared: &Shared, body: &Value) -> Option<Violation> {
    let (token, parameters) = codebuild::start_parameters(body)?;
    let mut tokens = locked(&shared.tokens);
    let now = std::time::Instant::now();
    if let Some((seen, at)) = tokens.get(&token)
        && now.duration_since(*at) < codebuild::IDEMPOTENCY_WINDOW
    {
        return (*seen != parameters).then(|| codebuild::token_mismatch(&token));
    }
    tokens.insert(token, (parameters, now));
    None
}

/// A request to moto at `path` with the credentials (and so the account and region) of the
/// request in `parts`.
fn on_behalf_of(
    shared: &Shared,
    parts: &Parts,
    method: &str,
    path: &str,
) -> hyper::http::request::Builder {
    let mut request = Request::builder()
        .method(method)
        .uri(format!("{}{path}", shared.upstream_base));
    if let Some(auth) = parts.headers.get(AUTHORIZATION) {
        request = request.header(AUTHORIZATION, auth);
    }
    request
}

/// One ECR call to moto on behalf of the request in `parts` (its credentials and region),
/// its JSON answer when it succeeded.
async fn ecr_lookup(shared: &Shared, parts: &Parts, operation: &str, body: Value) -> Option<Value> {
    let request = on_behalf_of(shared, parts, "POST", "/")
        .header(
            "x-amz-target",
            format!("{}.{operation}", ecr::TARGET_PREFIX),
        )
        .header(CONTENT_TYPE, "application/x-amz-json-1.1");
    let request = request
        .body(Full::new(Bytes::from(body.to_string())))
        .ok()?;
    let response = shared.upstream.request(request).await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    serde_json::from_slice(&response.into_body().collect().await.ok()?.to_bytes()).ok()
}

/// PutImage of a tag an IMMUTABLE repository already holds (see
/// [`ecr::immutable_tag_taken`]).
async fn immutable_tag_taken(shared: &Shared, parts: &Parts, body: &Value) -> Option<Violation> {
    let tag = body.get("imageTag")?.as_str()?;
    let repository = body.get("repositoryName")?.as_str()?;
    let mut scope = json!({});
    if let Some(registry) = body.get("registryId") {
        scope["registryId"] = registry.clone();
    }
    let mut repositories = scope.clone();
    repositories["repositoryNames"] = json!([repository]);
    let described = ecr_lookup(shared, parts, "DescribeRepositories", repositories).await?;
    let mutability = described
        .pointer("/repositories/0/imageTagMutability")?
        .as_str()?;
    if mutability != "IMMUTABLE" {
        return None;
    }
    let mut images = scope;
    images["repositoryName"] = json!(repository);
    images["imageIds"] = json!([{"imageTag": tag}]);
    let found = ecr_lookup(shared, parts, "DescribeImages", images).await?;
    let held = found.pointer("/imageDetails/0/imageDigest")?.as_str()?;
    Some(ecr::immutable_tag_taken(tag, repository, held))
}

/// TagResource adds to the tags a repository has: the limit counts both.
async fn tags_after_tagging(shared: &Shared, parts: &Parts, body: &Value) -> Option<Violation> {
    let arn = body.get("resourceArn")?.as_str()?;
    let existing = ecr_lookup(
        shared,
        parts,
        "ListTagsForResource",
        json!({"resourceArn": arn}),
    )
    .await?;
    let mut keys: std::collections::BTreeSet<&str> = super::array(&existing, "tags")
        .iter()
        .filter_map(|t| super::string(t, "Key"))
        .collect();
    keys.extend(
        super::array(body, "tags")
            .iter()
            .filter_map(|t| super::string(t, "Key")),
    );
    ecr::too_many_tags(keys.len()).err()
}

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

fn refuse(shared: &Shared, parts: &Parts, violation: Violation) -> Response<Full<Bytes>> {
    let target = header(parts, "x-amz-target")
        .unwrap_or_default()
        .to_string();
    let body = json!({"__type": violation.exception, "message": violation.message}).to_string();
    if let Ok(mut refusals) = shared.refusals.lock() {
        refusals.push(Refusal {
            target,
            exception: violation.exception,
            message: violation.message,
        });
    }
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = StatusCode::BAD_REQUEST;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    headers.insert(
        HeaderName::from_static("x-amzn-requestid"),
        HeaderValue::from_static("cib-strict-layer"),
    );
    if let Ok(value) = HeaderValue::from_str(violation.exception) {
        headers.insert(HeaderName::from_static("x-amzn-errortype"), value);
    }
    response
}

async fn forward(shared: &Shared, parts: Parts, body: Bytes) -> Response<Full<Bytes>> {
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let uri: Uri = match format!("{}{path}", shared.upstream_base).parse() {
        Ok(u) => u,
        Err(e) => {
            return plain(
                StatusCode::BAD_GATEWAY,
                format!("strict proxy: bad target {path}: {e}"),
            );
        }
    };
    let mut request = Request::new(Full::new(body));
    *request.method_mut() = parts.method;
    *request.uri_mut() = uri;
    for (name, value) in &parts.headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            request.headers_mut().append(name, value.clone());
        }
    }
    let response = match shared.upstream.request(request).await {
        Ok(r) => r,
        Err(e) => {
            return plain(
                StatusCode::BAD_GATEWAY,
                format!("strict proxy: moto did not answer: {e}"),
            );
        }
    };
    let (mut head, body) = response.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            return plain(
                StatusCode::BAD_GATEWAY,
                format!("strict proxy: moto's answer broke off: {e}"),
            );
        }
    };
    for name in HOP_BY_HOP {
        head.headers.remove(*name);
    }
    Response::from_parts(head, Full::new(body))
}

fn plain(status: StatusCode, text: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    response
}
