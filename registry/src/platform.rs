//! The platforms an image is for (`linux/amd64`, `linux/arm64`, ...): an index's entries,
//! or a single manifest's config (`os`, `architecture`, `variant`).

use bytes::BytesMut;
use futures_util::StreamExt;
use serde::Deserialize;

use crate::copy::Source;
use crate::error::{Error, Result};
use crate::manifest::{Manifest, Parsed};

/// The largest image config read for its platform (real ones are a few KiB).
pub const MAX_CONFIG_BYTES: u64 = 4 << 20;

#[derive(Deserialize)]
struct Config {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

/// `os/architecture[/variant]`, as Docker writes platforms.
fn platform_text(os: &str, architecture: &str, variant: Option<&str>) -> String {
    match variant.filter(|v| !v.is_empty()) {
        Some(v) => format!("{os}/{architecture}/{v}"),
        None => format!("{os}/{architecture}"),
    }
}

/// The platforms of the image whose root manifest is `root`, read from `source`: every
/// platform entry of an index (attestations, `unknown/unknown`, left out), or the one
/// platform of a single manifest's config.
pub async fn image_platforms<S: Source>(source: &S, root: &Manifest) -> Result<Vec<String>> {
    match root.parse()? {
        Parsed::Index { manifests } => Ok(manifests
            .iter()
            .filter_map(|d| d.platform.as_ref())
            .filter(|p| p.os != "unknown" && p.architecture != "unknown")
            .map(|p| platform_text(&p.os, &p.architecture, p.variant.as_deref()))
            .collect()),
        Parsed::Image { config, .. } => {
            if config.size > MAX_CONFIG_BYTES {
                return Err(Error::Manifest {
                    name: root.digest.to_string(),
                    reason: format!(
                        "its config {} declares {} bytes, over the {MAX_CONFIG_BYTES} read for a platform",
                        config.digest, config.size
                    ),
                });
            }
            let mut stream = source.blob(&config).await?;
            let mut bytes = BytesMut::new();
            while let Some(chunk) = stream.next().await {
                bytes.extend_from_slice(&chunk?);
            }
            let parsed: Config = serde_json::from_slice(&bytes).map_err(|e| Error::Manifest {
                name: config.digest.to_string(),
                reason: format!("the image config is not JSON with os and architecture: {e}"),
            })?;
            if parsed.os.is_empty() || parsed.architecture.is_empty() {
                return Ok(Vec::new());
            }
            Ok(vec![platform_text(
                &parsed.os,
                &parsed.architecture,
                parsed.variant.as_deref(),
            )])
        }
    }
}

/// True when `platforms` (as [`image_platforms`] gives them) can run as `wanted`
/// (`linux/amd64` or `linux/arm64`): the same os and architecture, any variant.
pub fn platform_matches(platforms: &[String], wanted: &str) -> bool {
    platforms.iter().any(|p| {
        p == wanted
            || p.strip_prefix(wanted)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variant_matches_its_platform_but_not_another() {
        let platforms = vec!["linux/arm64/v8".to_owned(), "linux/amd64".to_owned()];
        assert!(platform_matches(&platforms, "linux/arm64"));
        assert!(platform_matches(&platforms, "linux/amd64"));
        assert!(!platform_matches(
            &["linux/arm64".to_owned()],
            "linux/amd64"
        ));
        assert!(!platform_matches(
            &["linux/amd64p".to_owned()],
            "linux/amd64"
        ));
        assert!(!platform_matches(&[], "linux/amd64"));
    }
}
