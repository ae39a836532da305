//! Tunables read from the Lambda's environment, with production defaults.

use std::path::PathBuf;
use std::time::Duration;

/// The Lambda's default ephemeral storage (`/tmp`), in MiB.
pub const DEFAULT_TARBALL_MAX_MB: u64 = 512;

/// How the provider paces itself.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Pause between writing the replication configuration and reading it back to verify
    /// (`CIB_REPLICATION_SETTLE_MS`, default 2000).
    pub replication_settle: Duration,
    /// Write-and-verify rounds before giving up (`CIB_REPLICATION_ATTEMPTS`, default 5).
    pub replication_attempts: u32,
    /// First pause after CodeBuild's AccountLimitExceeded; doubled up to 2 minutes
    /// (`CIB_ACCOUNT_LIMIT_BACKOFF_MS`, default 10000).
    pub account_limit_backoff: Duration,
    /// Accept plain-http response URLs from build state events (`CIB_ALLOW_HTTP_RESPONSE_URL`,
    /// only for local tests; default false).
    pub allow_http_response_url: bool,
    /// The BuildKit image every build starts its builder from (`CIB_BUILDER_IMAGE`, the
    /// support stack's `BuilderImage`); empty: builds are refused before StartBuild.
    pub builder_image: String,
    /// The support stack's DynamoDB state table (`CIB_STATE_TABLE`): the replication lock
    /// and the record of the filters each replication resource added. Without it (local
    /// use only) replication writes are neither serialized nor recorded.
    pub state_table: Option<String>,
    /// How long a replication lock is held at most (`CIB_LOCK_LEASE_SECONDS`, default 300):
    /// longer than one whole merge; a holder that crashed frees it after this.
    pub lock_lease: Duration,
    /// Longest wait for the replication lock (`CIB_LOCK_WAIT_SECONDS`, default 600), also
    /// bounded by the invocation's deadline.
    pub lock_wait: Duration,
    /// Pause between attempts to take a busy lock (default 1 s, plus jitter).
    pub lock_poll: Duration,
    /// Test hook: a pause between reading the replication configuration and writing the
    /// merged one, standing in for a write slowed down by SDK retries. Zero in production
    /// (not read from the environment).
    pub replication_write_delay: Duration,
    /// The provider's own function name (`AWS_LAMBDA_FUNCTION_NAME`, set by Lambda): the
    /// trigger re-invokes itself through it while CodeBuild's queue is full.
    pub function_name: Option<String>,
    /// The only bucket image tarballs are read from: the support stack's artifact bucket
    /// (`CIB_TARBALL_BUCKET`). Without it no tarball is read.
    pub tarball_bucket: Option<String>,
    /// The largest tarball spooled, in bytes (`CIB_TARBALL_MAX_MB` MiB, default 512 MiB,
    /// Lambda's default ephemeral storage; the support stack sets it with the function's
    /// `EphemeralStorage`).
    pub tarball_max_bytes: u64,
    /// Where tarballs are spooled (`TMPDIR`, default `/tmp`).
    pub spool_dir: PathBuf,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            replication_settle: Duration::from_millis(2000),
            replication_attempts: 5,
            account_limit_backoff: Duration::from_millis(10_000),
            allow_http_response_url: false,
            builder_image: String::new(),
            state_table: None,
            lock_lease: Duration::from_secs(300),
            lock_wait: Duration::from_secs(600),
            lock_poll: Duration::from_millis(1000),
            replication_write_delay: Duration::ZERO,
            function_name: None,
            tarball_bucket: None,
            tarball_max_bytes: DEFAULT_TARBALL_MAX_MB << 20,
            spool_dir: PathBuf::from("/tmp"),
        }
    }
}

fn number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn text(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl Settings {
    /// The settings, from environment variables where set.
    pub fn from_env() -> Settings {
        let d = Settings::default();
        Settings {
            replication_settle: number("CIB_REPLICATION_SETTLE_MS")
                .map(Duration::from_millis)
                .unwrap_or(d.replication_settle),
            replication_attempts: number("CIB_REPLICATION_ATTEMPTS")
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n > 0)
                .unwrap_or(d.replication_attempts),
            account_limit_backoff: number("CIB_ACCOUNT_LIMIT_BACKOFF_MS")
                .map(Duration::from_millis)
                .unwrap_or(d.account_limit_backoff),
            allow_http_response_url: std::env::var("CIB_ALLOW_HTTP_RESPONSE_URL")
                .is_ok_and(|v| v == "true"),
            builder_image: std::env::var("CIB_BUILDER_IMAGE")
                .map(|v| v.trim().to_string())
                .unwrap_or_default(),
            state_table: text("CIB_STATE_TABLE"),
            lock_lease: number("CIB_LOCK_LEASE_SECONDS")
                .filter(|n| *n > 0)
                .map(Duration::from_secs)
                .unwrap_or(d.lock_lease),
            lock_wait: number("CIB_LOCK_WAIT_SECONDS")
                .map(Duration::from_secs)
                .unwrap_or(d.lock_wait),
            lock_poll: d.lock_poll,
            replication_write_delay: Duration::ZERO,
            function_name: text("AWS_LAMBDA_FUNCTION_NAME"),
            tarball_bucket: text("CIB_TARBALL_BUCKET"),
            tarball_max_bytes: number("CIB_TARBALL_MAX_MB")
                .filter(|n| *n > 0)
                .map_or(d.tarball_max_bytes, |mb| mb.saturating_mul(1 << 20)),
            spool_dir: text("TMPDIR").map_or(d.spool_dir, PathBuf::from),
        }
    }
}
