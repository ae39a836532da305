//! A stand-in for CloudFormation's presigned response URL: it records every PUT.
//!
//! CloudFormation ignores an answer whose body is over 4096 bytes ("The total size of the
//! response body can't exceed 4096 bytes", CloudFormation User Guide, Custom resource
//! response objects); the resource then waits until its timeout. S3 would accept the PUT,
//! so nothing in a real deploy says why. The recorder refuses such a body instead (HTTP 400,
//! kept apart in [`ResponseRecorder::refused`], never in [`ResponseRecorder::puts`]), and
//! fails the test when dropped unless the test took the refusals with
//! [`ResponseRecorder::take_refused`].

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

/// Largest response body CloudFormation accepts, in bytes (see the module docs).
pub const MAX_RESPONSE_BYTES: usize = 4096;

/// A local HTTP endpoint on 127.0.0.1 that answers every PUT with a configurable status and
/// keeps what it received. Other methods get 405 and are not recorded; a body over
/// [`MAX_RESPONSE_BYTES`] gets 400 and is recorded as refused.
pub struct ResponseRecorder {
    server: Server,
    puts: Arc<Mutex<Vec<RecordedPut>>>,
    refused: Arc<Mutex<Vec<RecordedPut>>>,
    status: Arc<AtomicU16>,
}

impl ResponseRecorder {
    /// Starts the recorder on a free port.
    pub fn start() -> ResponseRecorder {
        let puts: Arc<Mutex<Vec<RecordedPut>>> = Arc::default();
        let refused: Arc<Mutex<Vec<RecordedPut>>> = Arc::default();
        let status = Arc::new(AtomicU16::new(200));
        let (p, r, s) = (Arc::clone(&puts), Arc::clone(&refused), Arc::clone(&status));
        let handler: Handler = Arc::new(move |req| {
            if req.method != "PUT" {
                return Response::new(405, "only PUT is recorded");
            }
            let size = req.body.len();
            let put = RecordedPut {
                path: req.path,
                headers: req.headers,
                body: req.body,
            };
            if size > MAX_RESPONSE_BYTES {
                if let Ok(mut refused) = r.lock() {
                    refused.push(put);
                }
                return Response::new(
                    400,
                    format!(
                        "response body of {size} bytes refused: CloudFormation accepts at most \
                         {MAX_RESPONSE_BYTES}"
                    ),
                );
            }
            let code = s.load(Ordering::SeqCst);
            if let Ok(mut puts) = p.lock() {
                puts.push(put);
            }
            Response::new(code, "")
        });
        ResponseRecorder {
            server: Server::start(handler),
            puts,
            refused,
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

    /// The PUTs refused for a body over [`MAX_RESPONSE_BYTES`], in arrival order.
    pub fn refused(&self) -> Vec<RecordedPut> {
        match self.refused.lock() {
            Ok(r) => r.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Takes the refused PUTs (see [`Self::refused`]), so the recorder does not fail the
    /// test when dropped: for a test that shows the refusal on purpose.
    pub fn take_refused(&self) -> Vec<RecordedPut> {
        match self.refused.lock() {
            Ok(mut r) => std::mem::take(&mut *r),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
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

impl Drop for ResponseRecorder {
    fn drop(&mut self) {
        let refused = self.refused();
        if !refused.is_empty() && !std::thread::panicking() {
            let sizes: Vec<usize> = refused.iter().map(|p| p.body.len()).collect();
            panic!(
                "the response recorder refused {} answer(s) over CloudFormation's \
                 {MAX_RESPONSE_BYTES}-byte limit (sizes {sizes:?}); CloudFormation would have \
                 ignored them",
                refused.len()
            );
        }
    }
}
