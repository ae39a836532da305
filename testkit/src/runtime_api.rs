//! A minimal emulator of the Lambda Runtime API, so a handler binary built with
//! `lambda_runtime` can run as a child process and be fed events through its real loop.
//!
//! Endpoints: `GET /2018-06-01/runtime/invocation/next` (long-polls for the next event),
//! `POST /2018-06-01/runtime/invocation/<id>/response`, `POST .../<id>/error` and
//! `POST /2018-06-01/runtime/init/error`.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::http::{Handler, Request, Response, Server};

const PREFIX: &str = "/2018-06-01/runtime/";
/// The function ARN reported to the handler.
pub const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:cib-test";

/// What the handler answered for one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The handler returned; the body it posted to `/response`.
    Response(Vec<u8>),
    /// The handler failed; the body it posted to `/error` (or `/init/error`).
    Error(Vec<u8>),
}

impl Outcome {
    /// The posted body parsed as JSON; panics (failing the test) if it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        let body = match self {
            Outcome::Response(b) | Outcome::Error(b) => b,
        };
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => panic!(
                "runtime answer is not JSON ({e}): {}",
                String::from_utf8_lossy(body)
            ),
        }
    }
}

#[derive(Default)]
struct State {
    pending: VecDeque<(String, Vec<u8>)>,
    outcomes: HashMap<String, Outcome>,
    init_error: Option<Vec<u8>>,
    next_id: u64,
    stopped: bool,
    /// Bumped whenever a handler process is stopped: a `next` request that arrived from an
    /// earlier process (still waiting in a server thread after that process died) must not
    /// take an event meant for the next process.
    generation: u64,
}

type Shared = Arc<(Mutex<State>, Condvar)>;

/// A running Runtime API emulator on 127.0.0.1.
pub struct RuntimeApi {
    server: Server,
    shared: Shared,
}

impl RuntimeApi {
    /// Starts the emulator on a free port.
    pub fn start() -> RuntimeApi {
        let shared: Shared = Arc::default();
        let s = Arc::clone(&shared);
        let handler: Handler = Arc::new(move |req| route(&s, req));
        RuntimeApi {
            server: Server::start(handler),
            shared,
        }
    }

    /// `127.0.0.1:<port>`: the value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.server.addr().to_string()
    }

    /// The environment a Lambda handler process expects, pointing at this emulator.
    pub fn lambda_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_LAMBDA_RUNTIME_API", self.address()),
            ("AWS_LAMBDA_FUNCTION_NAME", "cib-test".to_string()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".to_string()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_string()),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "test-stream".to_string()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                "/aws/lambda/cib-test".to_string(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Queues `event` and waits up to `timeout` for the handler's answer.
    pub fn invoke(&self, event: &serde_json::Value, timeout: Duration) -> Result<Outcome, String> {
        let body = serde_json::to_vec(event).map_err(|e| format!("event not serializable: {e}"))?;
        let (lock, cvar) = &*self.shared;
        let mut state = lock
            .lock()
            .map_err(|_| "runtime state poisoned".to_string())?;
        state.next_id += 1;
        let id = format!("req-{:08}", state.next_id);
        state.pending.push_back((id.clone(), body));
        cvar.notify_all();
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(outcome) = state.outcomes.remove(&id) {
                return Ok(outcome);
            }
            if let Some(err) = state.init_error.clone() {
                return Ok(Outcome::Error(err));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(format!("no answer for invocation {id} within {timeout:?}"));
            }
            state = cvar
                .wait_timeout(state, deadline - now)
                .map_err(|_| "runtime state poisoned".to_string())?
                .0;
        }
    }

    /// Runs `binary` as a Lambda handler process against this emulator (with `extra_env` on
    /// top of [`RuntimeApi::lambda_env`]), feeds it `event`, returns its answer and stops it.
    pub fn run_once(
        &self,
        binary: &Path,
        extra_env: &[(String, String)],
        event: &serde_json::Value,
        timeout: Duration,
    ) -> Result<Outcome, String> {
        let mut child = HandlerProcess::spawn(binary, &self.lambda_env(), extra_env)?;
        let outcome = self.invoke(event, timeout);
        child.stop();
        self.retire_waiting_requests();
        outcome
    }
}

impl RuntimeApi {
    /// Makes every `next` request still waiting (from a stopped process) give up.
    fn retire_waiting_requests(&self) {
        let (lock, cvar) = &*self.shared;
        if let Ok(mut state) = lock.lock() {
            state.generation += 1;
        }
        cvar.notify_all();
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        let (lock, cvar) = &*self.shared;
        if let Ok(mut s) = lock.lock() {
            s.stopped = true;
        }
        cvar.notify_all();
    }
}

/// A handler child process, killed when dropped.
pub struct HandlerProcess {
    child: Child,
}

impl HandlerProcess {
    /// Spawns `binary` with the given environment (stdout and stderr inherited, so its logs
    /// show in the test output).
    pub fn spawn(
        binary: &Path,
        env: &[(String, String)],
        extra_env: &[(String, String)],
    ) -> Result<HandlerProcess, String> {
        let child = Command::new(binary)
            .envs(env.iter().chain(extra_env).map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        Ok(HandlerProcess { child })
    }

    /// Kills the process and reaps it.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for HandlerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

fn route(shared: &Shared, req: Request) -> Response {
    let Some(rest) = req.path.strip_prefix(PREFIX) else {
        return Response::new(404, "unknown path");
    };
    match (req.method.as_str(), rest) {
        ("GET", "invocation/next") => next_invocation(shared),
        ("POST", "init/error") => {
            record(shared, None, Outcome::Error(req.body));
            accepted()
        }
        ("POST", path) => {
            let mut parts = path.splitn(3, '/');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("invocation"), Some(id), Some("response")) => {
                    record(shared, Some(id), Outcome::Response(req.body));
                    accepted()
                }
                (Some("invocation"), Some(id), Some("error")) => {
                    record(shared, Some(id), Outcome::Error(req.body));
                    accepted()
                }
                _ => Response::new(404, "unknown path"),
            }
        }
        _ => Response::new(405, "method not allowed"),
    }
}

fn accepted() -> Response {
    Response::new(202, r#"{"status":"OK"}"#).with_header("Content-Type", "application/json")
}

fn record(shared: &Shared, id: Option<&str>, outcome: Outcome) {
    let (lock, cvar) = &**shared;
    if let Ok(mut s) = lock.lock() {
        match id {
            Some(id) => {
                s.outcomes.insert(id.to_string(), outcome);
            }
            None => {
                if let Outcome::Error(b) = outcome {
                    s.init_error = Some(b);
                }
            }
        }
    }
    cvar.notify_all();
}

fn next_invocation(shared: &Shared) -> Response {
    let (lock, cvar) = &**shared;
    let Ok(mut state) = lock.lock() else {
        return Response::new(500, "runtime state poisoned");
    };
    let arrived_in = state.generation;
    loop {
        if state.generation != arrived_in {
            return Response::new(410, "the handler process that asked was stopped");
        }
        if let Some((id, body)) = state.pending.pop_front() {
            let deadline = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() + 300_000)
                .unwrap_or_default();
            return Response::new(200, body)
                .with_header("Content-Type", "application/json")
                .with_header("Lambda-Runtime-Aws-Request-Id", &id)
                .with_header("Lambda-Runtime-Deadline-Ms", &deadline.to_string())
                .with_header("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN)
                .with_header(
                    "Lambda-Runtime-Trace-Id",
                    "Root=1-00000000-000000000000000000000000;Sampled=0",
                );
        }
        if state.stopped {
            return Response::new(500, "runtime emulator stopped");
        }
        state = match cvar.wait_timeout(state, Duration::from_millis(500)) {
            Ok((s, _)) => s,
            Err(_) => return Response::new(500, "runtime state poisoned"),
        };
    }
}
