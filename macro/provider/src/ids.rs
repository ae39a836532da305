//! Identifiers derived from the event: physical ids, idempotency tokens, markers.

pub use cib_trigger::marker::{build_marker_key, build_marker_value, short_hash};

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
