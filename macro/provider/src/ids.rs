//! Identifiers derived from the event: physical ids, idempotency tokens, markers.

use sha2::{Digest, Sha256};

/// The first 16 hex characters of the SHA-256 of `parts` joined by newlines.
pub fn short_hash(parts: &[&str]) -> String {
    let digest = Sha256::digest(parts.join("\n").as_bytes());
    hex::encode(&digest[..8])
}

/// The physical id given at Create: the logical id and a hash of stack, logical id and
/// request. Update and Delete always reuse the id CloudFormation sends, so it never changes
/// for the life of the resource.
pub fn new_physical_id(stack_id: &str, logical_id: &str, request_id: &str) -> String {
    let base: String = logical_id.chars().take(200).collect();
    format!("{base}-{}", short_hash(&[stack_id, logical_id, request_id]))
}

/// The account id in an ARN (its fifth field), e.g. a stack id.
pub fn account_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_and_short() {
        let a = new_physical_id("s", "Api", "r");
        assert_eq!(a, new_physical_id("s", "Api", "r"));
        assert_ne!(a, new_physical_id("s", "Api", "r2"));
        assert!(a.starts_with("Api-") && a.len() == 20);
        assert_eq!(
            account_of("arn:aws:cloudformation:us-east-1:123456789012:stack/s/1"),
            Some("123456789012")
        );
        assert_eq!(build_marker_value("abc", "proj:1234-5"), "abc 1234-5");
    }
}
