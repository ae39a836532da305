//! Debian's `docker-registry` (the reference OCI registry) on a loopback port, and `skopeo`
//! to fill it: real registries for copy tests. A missing tool fails the test, naming the
//! Debian package to install; it never skips.

use std::fs;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The path of a program, or a failing test naming the Debian package to install.
pub fn tool(name: &str, package: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/local/bin", "/bin"] {
        let path = Path::new(dir).join(name);
        if path.is_file() {
            return path;
        }
    }
    panic!("{name} is not installed: apt-get install -y --no-install-recommends {package}");
}

/// Runs skopeo with `args` (no signature policy: everything is local).
pub fn skopeo(args: &[&str]) {
    let output = Command::new(tool("skopeo", "skopeo"))
        .arg("--insecure-policy")
        .args(args)
        .output()
        .expect("run skopeo");
    assert!(
        output.status.success(),
        "skopeo {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A running `docker-registry` (the reference registry) on a loopback port, stopped and its
/// storage removed when dropped.
pub struct LocalRegistry {
    child: Child,
    /// `127.0.0.1:<port>`.
    pub host: String,
    _storage: tempfile::TempDir,
}

impl LocalRegistry {
    /// Starts the registry and waits until `/v2/` answers.
    pub fn start() -> LocalRegistry {
        let program = tool("docker-registry", "docker-registry");
        let storage = tempfile::tempdir().expect("tempdir");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let config = storage.path().join("config.yml");
        fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  \
                 delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
                storage.path().join("data").display()
            ),
        )
        .expect("write config");
        let log = fs::File::create(storage.path().join("registry.log")).expect("log");
        let child = Command::new(program)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start docker-registry");
        let mut registry = LocalRegistry {
            child,
            host: format!("127.0.0.1:{port}"),
            _storage: storage,
        };
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = registry.child.try_wait() {
                let log = fs::read_to_string(registry._storage.path().join("registry.log"))
                    .unwrap_or_default();
                panic!("docker-registry exited with {status}: {log}");
            }
            if http_get_status(&registry.host, "/v2/") == Some(200) {
                return registry;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "docker-registry did not answer"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The status of a plain HTTP GET, or None when nothing answers.
pub fn http_get_status(host: &str, path: &str) -> Option<u16> {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(host).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = [0u8; 12];
    stream.read_exact(&mut buf).ok()?;
    std::str::from_utf8(&buf[9..12]).ok()?.parse().ok()
}
