//! Tunables read from the Lambda's environment, with production defaults.

use std::time::Duration;

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
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            replication_settle: Duration::from_millis(2000),
            replication_attempts: 5,
            account_limit_backoff: Duration::from_millis(10_000),
            allow_http_response_url: false,
            builder_image: String::new(),
        }
    }
}

fn number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
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
        }
    }
}
