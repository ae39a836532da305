//! Starts `moto_server` (the moto AWS emulator) on 127.0.0.1 for one test, behind the
//! strict layer ([`crate::strict`]): [`MotoServer::endpoint`], [`MotoServer::port`] and
//! [`MotoServer::sdk_env`] hand out the proxy, so every request a test or the product sends
//! is held to AWS's documented limits before moto sees it.
//!
//! The server comes from the project's Python venv: `$CIB_VENV/bin/moto_server`, with
//! `CIB_VENV` defaulting to `$HOME/.cache/cib/venv`. A missing server is a test failure, never
//! a skip: the tests this fixture serves prove behaviour against a real AWS-compatible API.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::strict::{Refusal, StrictProxy};

/// How long the server may take to answer its first request.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// The access key and secret the tests use; moto accepts any.
pub const TEST_ACCESS_KEY: &str = "testing";
/// See [`TEST_ACCESS_KEY`].
pub const TEST_SECRET_KEY: &str = "testing";
/// The account id moto uses by default.
pub const MOTO_ACCOUNT_ID: &str = "123456789012";

/// A running `moto_server` behind its strict proxy, both stopped when dropped.
pub struct MotoServer {
    child: Child,
    port: u16,
    log_path: PathBuf,
    proxy: Option<StrictProxy>,
}

/// The venv that holds moto and cfn-lint: `$CIB_VENV`, else `$HOME/.cache/cib/venv`.
pub fn venv_dir() -> PathBuf {
    if let Some(v) = std::env::var_os("CIB_VENV").filter(|v| !v.is_empty()) {
        return PathBuf::from(v);
    }
    let home = std::env::var_os("HOME").unwrap_or_default();
    PathBuf::from(home).join(".cache/cib/venv")
}

/// The path of a program installed in the venv (`bin/<name>`); panics with an install hint
/// if it is not there.
pub fn venv_program(name: &str) -> PathBuf {
    let path = venv_dir().join("bin").join(name);
    if !path.is_file() {
        panic!(
            "{name} not found at {}: create the venv with \
             `python3 -m venv {venv} && {venv}/bin/pip install 'moto[server]' cfn-lint` \
             (or point CIB_VENV at a venv that has it)",
            path.display(),
            venv = venv_dir().display()
        );
    }
    path
}

impl MotoServer {
    /// Starts a fresh server on a free port and waits until it answers.
    ///
    /// Panics with a clear message if moto is not installed or does not come up.
    pub fn start() -> MotoServer {
        let program = venv_program("moto_server");
        let mut last_error = String::new();
        for _ in 0..3 {
            let port = free_port();
            let log_path = std::env::temp_dir().join(format!("cib-moto-{port}.log"));
            let log = match File::create(&log_path) {
                Ok(f) => f,
                Err(e) => panic!("cannot create moto log {}: {e}", log_path.display()),
            };
            let log_err = match log.try_clone() {
                Ok(f) => f,
                Err(e) => panic!("cannot clone moto log handle: {e}"),
            };
            let child = Command::new(&program)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::from(log))
                .stderr(Stdio::from(log_err))
                .spawn();
            let child = match child {
                Ok(c) => c,
                Err(e) => panic!("cannot start {}: {e}", program.display()),
            };
            let mut server = MotoServer {
                child,
                port,
                log_path,
                proxy: None,
            };
            match server.wait_ready() {
                Ok(()) => {
                    server.proxy = Some(StrictProxy::start(port, MOTO_ACCOUNT_ID));
                    return server;
                }
                Err(e) => last_error = e,
            }
        }
        panic!("moto_server did not start: {last_error}");
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let start = Instant::now();
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        while start.elapsed() < STARTUP_TIMEOUT {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "moto_server exited with {status}; log:\n{}",
                    self.log_tail()
                ));
            }
            if let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let req = "GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
                if s.write_all(req.as_bytes()).is_ok() {
                    let mut buf = [0u8; 12];
                    if s.read(&mut buf).is_ok_and(|n| n > 0) && buf.starts_with(b"HTTP/") {
                        return Ok(());
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "no answer on port {} within {STARTUP_TIMEOUT:?}; log:\n{}",
            self.port,
            self.log_tail()
        ))
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let start = text.len().saturating_sub(2000);
        text.get(start..).unwrap_or_default().to_string()
    }

    fn proxy(&self) -> &StrictProxy {
        match &self.proxy {
            Some(p) => p,
            None => panic!("moto_server has no strict proxy (it did not start)"),
        }
    }

    /// The port of the strict proxy in front of the server: what tests talk to.
    pub fn port(&self) -> u16 {
        self.proxy().port()
    }

    /// `http://127.0.0.1:<proxy port>`, for `AWS_ENDPOINT_URL` or an SDK's `endpoint_url`.
    pub fn endpoint(&self) -> String {
        self.proxy().endpoint()
    }

    /// moto's own endpoint, without the strict layer: only for a test that must put state
    /// into moto that AWS would refuse (none should need it).
    pub fn unchecked_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request sent to the server so far, in arrival order
    /// ([`StrictProxy::operations`]): what a test counts calls with.
    pub fn operations(&self) -> Vec<String> {
        self.proxy().operations()
    }

    /// Plays stack `stack_id` with moto stack `moto_stack_id` from now on
    /// ([`StrictProxy::play_stack`]).
    pub fn play_stack(&self, stack_id: &str, moto_stack_id: &str) {
        self.proxy().play_stack(stack_id, moto_stack_id);
    }

    /// Declares the status and physical id CloudFormation shows for a resource while it
    /// waits for the provider ([`StrictProxy::set_resource_state`]).
    pub fn set_resource_state(
        &self,
        stack_id: &str,
        logical_id: &str,
        status: &str,
        physical_id: Option<&str>,
    ) {
        self.proxy()
            .set_resource_state(stack_id, logical_id, status, physical_id);
    }

    /// Declares build `id` as CodeBuild reports it ([`StrictProxy::declare_build`]).
    pub fn declare_build(&self, id: &str, build: serde_json::Value) {
        self.proxy().declare_build(id, build);
    }

    /// Declares a stack's status ([`StrictProxy::set_stack_status`]).
    pub fn set_stack_status(&self, stack_id: &str, status: &str) {
        self.proxy().set_stack_status(stack_id, status);
    }

    /// Every S3 call that named no bucket owner ([`StrictProxy::unowned_s3_calls`]).
    pub fn unowned_s3_calls(&self) -> Vec<String> {
        self.proxy().unowned_s3_calls()
    }

    /// Authorizes every later request signed with `access_key` against `policies`, as IAM
    /// would for the role `name` ([`StrictProxy::enforce`]). A denied request fails the
    /// test when the server stops, unless the test took it ([`MotoServer::take_denied`]).
    pub fn enforce(&self, access_key: &str, name: &str, policies: Vec<serde_json::Value>) {
        self.proxy().enforce(access_key, name, policies);
    }

    /// The requests denied so far, taken ([`StrictProxy::take_denied`]).
    pub fn take_denied(&self) -> Vec<crate::strict::authorize::Denied> {
        self.proxy().take_denied()
    }

    /// Every request the strict layer refused so far, as AWS would have.
    pub fn refusals(&self) -> Vec<Refusal> {
        self.proxy().refusals()
    }

    /// Environment variables that point an AWS SDK or the AWS CLI at this server, with test
    /// credentials and `region` as the default region.
    pub fn sdk_env(&self, region: &str) -> Vec<(String, String)> {
        self.sdk_env_signed_as(region, TEST_ACCESS_KEY)
    }

    /// [`MotoServer::sdk_env`] with requests signed by `access_key`: a principal the test
    /// enforces ([`MotoServer::enforce`]) when it is one.
    pub fn sdk_env_signed_as(&self, region: &str, access_key: &str) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", access_key.to_string()),
            ("AWS_SECRET_ACCESS_KEY", TEST_SECRET_KEY.to_string()),
            ("AWS_REGION", region.to_string()),
            ("AWS_DEFAULT_REGION", region.to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let mut denied = Vec::new();
        if let Some(proxy) = &self.proxy {
            for r in proxy.refusals() {
                eprintln!(
                    "strict layer refused {}: {}: {}",
                    r.target, r.exception, r.message
                );
            }
            denied = proxy.take_denied();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log_path);
        // A denial the product swallowed (a lookup that fell back, a retry) still fails the
        // test: in AWS the same call would have been denied.
        if !denied.is_empty() && !std::thread::panicking() {
            let lines: Vec<String> = denied
                .iter()
                .map(|d| format!("- {}: {}", d.principal, d.message))
                .collect();
            panic!(
                "IAM would deny {} request(s) the test made:\n{}",
                denied.len(),
                lines.join("\n")
            );
        }
    }
}

fn free_port() -> u16 {
    match TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(addr) => addr.port(),
        Err(e) => panic!("cannot find a free port on 127.0.0.1: {e}"),
    }
}
