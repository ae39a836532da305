//! The build marker: the provider records the last build it started for a trigger in a tag
//! of the image's repository, so a retried request never starts a second build and
//! `cib plan` can find the previous build of an image (and its duration).

use sha2::{Digest, Sha256};

/// The first 16 hex characters of the SHA-256 of `parts` joined by newlines.
pub fn short_hash(parts: &[&str]) -> String {
    let digest = Sha256::digest(parts.join("\n").as_bytes());
    hex::encode(&digest[..8])
}

/// The repository tag key under which the last started build of one trigger is recorded.
pub fn build_marker_key(stack_id: &str, logical_id: &str) -> String {
    format!("cib-build:{}", short_hash(&[stack_id, logical_id]))
}

/// The marker value: the request's hash, then the build id's unique part.
pub fn build_marker_value(request_mark: &str, build_id: &str) -> String {
    let unique = build_id.rsplit(':').next().unwrap_or(build_id);
    let value = format!("{request_mark} {unique}");
    value.chars().take(256).collect()
}

/// The build id a marker value names, on `project` (a build id is `<project>:<unique>`).
pub fn build_id(project: &str, marker_value: &str) -> Option<String> {
    let unique = marker_value.split(' ').nth(1).filter(|u| !u.is_empty())?;
    Some(format!("{project}:{unique}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_names_its_build_back() {
        let value = build_marker_value("abc", "proj:1234-5");
        assert_eq!(value, "abc 1234-5");
        assert_eq!(build_id("proj", &value).as_deref(), Some("proj:1234-5"));
        assert_eq!(build_id("proj", "abc"), None);
        assert!(build_marker_key("s", "Api").starts_with("cib-build:"));
        assert_eq!(build_marker_key("s", "Api").len(), "cib-build:".len() + 16);
    }
}
