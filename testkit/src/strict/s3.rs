//! S3's bucket owner condition, which moto does not check.
//!
//! A request with `x-amz-expected-bucket-owner: <account>` fails with HTTP 403 Access Denied
//! when another account owns the bucket ("Verifying bucket ownership with bucket owner
//! condition", S3 User Guide:
//! https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html).
//! moto ignores the header, so the proxy asks moto which buckets the expected account owns
//! (ListBuckets as that account, moto's `x-moto-account-id` header) and answers 403 itself
//! when the bucket is not among them. It also records every S3 call that named no owner
//! (CreateBucket and ListBuckets take none), so a test can require that the product's calls
//! all do.

/// The header S3 reads the expected owner from.
pub const EXPECTED_OWNER_HEADER: &str = "x-amz-expected-bucket-owner";

/// The service in a SigV4 `Authorization` header's credential scope.
pub fn service_of_authorization(header: &str) -> Option<String> {
    let scope = header.split("Credential=").nth(1)?;
    let scope = scope.split([',', ' ']).next()?;
    scope.split('/').nth(3).map(str::to_string)
}

/// The bucket a path-style S3 request addresses (`/<bucket>/<key>`), if any.
pub fn bucket_of(path: &str) -> Option<&str> {
    path.trim_start_matches('/')
        .split('/')
        .next()
        .filter(|b| !b.is_empty())
}

/// Whether a request of `method` to `path` takes the owner condition: every bucket and
/// object operation but CreateBucket (`PUT /<bucket>`, which has no owner yet).
pub fn takes_owner(method: &str, path: &str, query: &str) -> bool {
    let Some(bucket) = bucket_of(path) else {
        return false; // ListBuckets
    };
    let bucket_only = path.trim_matches('/') == bucket;
    !(method == "PUT" && bucket_only && query.is_empty())
}

/// Whether moto's ListBuckets answer (XML) lists `bucket`.
pub fn lists_bucket(answer: &str, bucket: &str) -> bool {
    answer.contains(&format!("<Name>{bucket}</Name>"))
}

/// The 403 S3 answers when the owner condition fails.
pub fn access_denied() -> &'static str {
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>\
     <Message>Access Denied</Message></Error>"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_read_as_s3_reads_them() {
        let auth = "AWS4-HMAC-SHA256 Credential=testing/20261207/us-east-1/s3/aws4_request, SignedHeaders=host";
        assert_eq!(service_of_authorization(auth).as_deref(), Some("s3"));
        assert_eq!(
            bucket_of("/cib-artifacts/cib/lambda/x.zip"),
            Some("cib-artifacts")
        );
        assert_eq!(bucket_of("/"), None);
        assert!(!takes_owner("PUT", "/b", ""), "CreateBucket");
        assert!(takes_owner("PUT", "/b/k", ""), "PutObject");
        assert!(takes_owner("HEAD", "/b", ""), "HeadBucket");
        assert!(
            takes_owner("PUT", "/b", "versioning"),
            "a bucket sub-resource"
        );
        assert!(!takes_owner("GET", "/", ""), "ListBuckets");
        assert!(lists_bucket("<Bucket><Name>b</Name></Bucket>", "b"));
        assert!(!lists_bucket("<Bucket><Name>bb</Name></Bucket>", "b"));
    }
}
