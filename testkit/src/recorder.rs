//! A stand-in for CloudFormation's presigned response URL: it records every PUT.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::http::{Handler, Response, Server};

/// One PUT received by the recorder.
#[derive(Debug, Clone)]
pub struct RecordedPut {
    /// The request target (path and query) the PUT was sent to.
    pub path: String,
    /// Header names in lower case, with their values.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
}

impl RecordedPut {
    /// The body parsed as JSON; panics (failing the test) if it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        match serde_json::from_slice(&self.body) {
            Ok(v) => v,
            Err(e) => panic!(
                "response body is not valid JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            ),
        }
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A local HTTP endpoint on 127.0.0.1 that answers every PUT with a configurable status and
/// keeps what it received. Other methods get 405 and are not recorded.
pub struct ResponseRecorder {
    server: Server,
    puts: Arc<Mutex<Vec<RecordedPut>>>,
    status: Arc<AtomicU16>,
}

impl ResponseRecorder {
    /// Starts the recorder on a free port.
    pub fn start() -> ResponseRecorder {
        let puts: Arc<Mutex<Vec<RecordedPut>>> = Arc::default();
        let status = Arc::new(AtomicU16::new(200));
        let (p, s) = (Arc::clone(&puts), Arc::clone(&status));
        let handler: Handler = Arc::new(move |req| {
            if req.method != "PUT" {
                return Response::new(405, "only PUT is recorded");
            }
            let code = s.load(Ordering::SeqCst);
            if let Ok(mut puts) = p.lock() {
                puts.push(RecordedPut {
                    path: req.path,
                    headers: req.headers,
                    body: req.body,
                });
            }
            Response::new(code, "")
        });
        ResponseRecorder {
            server: Server::start(handler),
            puts,
            status,
        }
    }

    /// A URL on this recorder; `path` should start with `/`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.server.base_url(), path)
    }

    /// Makes later PUTs answer with `status` (they are still recorded), to simulate a failing
    /// endpoint.
    pub fn set_status(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// Every PUT received so far, in arrival order.
    pub fn puts(&self) -> Vec<RecordedPut> {
        match self.puts.lock() {
            Ok(p) => p.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The PUTs received on one path.
    pub fn puts_to(&self, path: &str) -> Vec<RecordedPut> {
        self.puts().into_iter().filter(|p| p.path == path).collect()
    }

    /// Waits until at least `count` PUTs arrived or `timeout` passed, then returns them all.
    pub fn wait_for(&self, count: usize, timeout: Duration) -> Vec<RecordedPut> {
        let start = Instant::now();
        loop {
            let puts = self.puts();
            if puts.len() >= count || start.elapsed() >= timeout {
                return puts;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
