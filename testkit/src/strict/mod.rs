//! The strict layer: AWS's documented limits, enforced in front of moto.
//!
//! moto accepts values AWS refuses (a 5,000-character environment variable, a 300-character
//! image tag, eleven replication rules), so a green moto test proves wiring, not a deploy.
//! [`StrictProxy`] listens on 127.0.0.1 and forwards every request to moto unchanged, except
//! JSON-protocol calls (`X-Amz-Target`) whose body breaks a limit the product depends on:
//! those it answers itself as AWS would, HTTP 400 with
//! `{"__type": "<ExceptionName>", "message": ...}`, and records the refusal
//! ([`StrictProxy::refusals`]).
//!
//! The checks are pure functions of the operation and its JSON body, one module per
//! service ([`codebuild`], [`ecr`], [`ssm`]); each limit names its source. A limit is added
//! here only from AWS's documentation (or, where AWS left one undocumented, the error text
//! AWS is known to answer with), never from what the product happens to send.
//!
//! Not covered here because moto already refuses like AWS: DynamoDB item size (400 KB) and
//! key lengths (2048/1024 bytes) (`moto/dynamodb/limits.py`). Lambda's REST API is not
//! inspected: the product does not call it in moto-backed tests.
//!
//! A refusal fails the call like AWS's answer would; whatever the test asserts, the
//! refusals are also printed to the test's output when the server stops, so one the
//! product swallows is still seen.

pub mod authorize;
pub mod builds;
pub mod cloudformation;
pub mod codebuild;
pub mod ecr;
mod proxy;
pub mod s3;
pub mod ssm;

pub use proxy::StrictProxy;

use serde_json::Value;

/// The account and region a request is addressed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The region from the request's SigV4 credential scope.
    pub region: String,
    /// The account the emulated registry belongs to.
    pub account: String,
}

/// A request the strict layer answered itself, as AWS would have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The operation, as sent in `X-Amz-Target` (e.g. `CodeBuild_20161006.StartBuild`).
    pub target: String,
    /// The exception name AWS answers with (e.g. `InvalidInputException`).
    pub exception: &'static str,
    /// The message, naming the field and the limit.
    pub message: String,
}

/// What a check finds wrong: the exception AWS answers with and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The exception name.
    pub exception: &'static str,
    /// The message.
    pub message: String,
}

impl Violation {
    /// A violation with the given exception name and message.
    pub fn new(exception: &'static str, message: impl Into<String>) -> Violation {
        Violation {
            exception,
            message: message.into(),
        }
    }
}

/// Checks one JSON-protocol request: `target` is the `X-Amz-Target` header, `body` the
/// parsed request body. `None` when the request is within every limit this layer knows.
pub fn check(target: &str, body: &Value, caller: &Caller) -> Option<Violation> {
    let (service, operation) = target.split_once('.')?;
    let result = match service {
        codebuild::TARGET_PREFIX => codebuild::check(operation, body),
        ecr::TARGET_PREFIX => ecr::check(operation, body, caller),
        ssm::TARGET_PREFIX => ssm::check(operation, body, caller),
        _ => Ok(()),
    };
    result.err()
}

/// The region in a SigV4 `Authorization` header's credential scope
/// (`Credential=<key>/<date>/<region>/<service>/aws4_request`).
pub fn region_of_authorization(header: &str) -> Option<String> {
    let scope = header.split("Credential=").nth(1)?;
    let scope = scope.split([',', ' ']).next()?;
    scope.split('/').nth(2).map(str::to_string)
}

/// The length AWS's Java services measure a string in: UTF-16 code units.
pub(crate) fn aws_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// The array at `key` of an object, or an empty slice.
pub(crate) fn array<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The string at `key` of an object.
pub(crate) fn string<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_comes_from_the_credential_scope() {
        let header = "AWS4-HMAC-SHA256 Credential=testing/20261202/eu-west-1/ecr/aws4_request, \
                      SignedHeaders=host;x-amz-date, Signature=abc";
        assert_eq!(
            region_of_authorization(header).as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(region_of_authorization("Bearer x"), None);
    }

    #[test]
    fn lengths_are_counted_as_aws_counts_them() {
        assert_eq!(aws_len("abc"), 3);
        assert_eq!(aws_len("é"), 1);
        assert_eq!(aws_len("😀"), 2);
    }

    #[test]
    fn unknown_services_pass() {
        let caller = Caller {
            region: "us-east-1".into(),
            account: "123456789012".into(),
        };
        assert_eq!(
            check("DynamoDB_20120810.PutItem", &Value::Null, &caller),
            None
        );
        assert_eq!(check("no-dot", &Value::Null, &caller), None);
    }
}
