//! Where the response URL lives while a build runs, and which response URLs the provider
//! trusts.
//!
//! The presigned response URL is a bearer credential: whoever holds it can answer for the
//! resource. It never becomes a PLAINTEXT build variable (those are readable through
//! `codebuild:BatchGetBuilds`, the console and the build-state event): the provider stores
//! it in an SSM SecureString parameter and passes only the parameter's name (the build
//! variable `CIB_RESPONSE_URL` has type PARAMETER_STORE, so CodeBuild resolves it inside
//! the build; https://docs.aws.amazon.com/codebuild/latest/APIReference/API_EnvironmentVariable.html).
//!
//! A URL read back for a build-state event is answered only when it is CloudFormation's own
//! response bucket for the provider's region: `cloudformation-custom-resource-response-
//! <region without dashes>` on the S3 endpoint of the region's partition, never any other
//! `*.amazonaws.com` host.

use crate::event::CfnRequest;
use crate::ids;

/// The bucket-name prefix of CloudFormation's custom-resource response buckets, e.g.
/// `cloudformation-custom-resource-response-useast1`.
pub const RESPONSE_BUCKET_PREFIX: &str = "cloudformation-custom-resource-response-";

/// The DNS suffix of `region`'s partition (one table, in `cib-contract`, for the provider
/// and `cib plan`).
pub use cib_contract::dns_suffix;

/// The SSM parameter that holds `request`'s response URL while its build runs:
/// `/ContainerImageBuild/responses/<stack uuid>/<request hash>` (the request hash is the
/// same short hash of stack id and request id that marks the build), or `None` when the
/// stack id is not a stack ARN.
pub fn parameter_name(request: &CfnRequest) -> Option<String> {
    let request_hash = ids::short_hash(&[&request.stack_id, &request.request_id]);
    cib_contract::response_parameter_name(&request.stack_id, &request_hash)
}

/// Whether `name` is a response parameter of stack `stack_id` (the only names the
/// provider reads and deletes for a build-state event, whose variables anyone allowed to
/// start builds of our projects could have set).
pub fn is_parameter_of(name: &str, stack_id: &str) -> bool {
    let Some(prefix) = cib_contract::response_parameter_name(stack_id, "") else {
        return false;
    };
    name.strip_prefix(&prefix)
        .is_some_and(|hash| !hash.is_empty() && hash.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Whether `url` is a presigned URL of CloudFormation's response bucket for `region`:
/// `https://`, no user info or port, and either the virtual-hosted form
/// `<bucket>.s3[.dualstack][.<region>|-<region>].<suffix>/...` or the path form
/// `s3[.dualstack][.<region>|-<region>].<suffix>/<bucket>/...`, where `<bucket>` is
/// `cloudformation-custom-resource-response-<region without dashes>` and `<suffix>` is the
/// region's partition's DNS suffix.
pub fn is_cloudformation_response_url(url: &str, region: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    let (host, path) = match rest.find(['/', '?', '#']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if host.is_empty() || host.contains(['@', ':', '\\']) || region.is_empty() {
        return false;
    }
    let bucket = format!("{RESPONSE_BUCKET_PREFIX}{}", region.replace('-', ""));
    let host = host.to_ascii_lowercase();
    let suffix = dns_suffix(region);
    let endpoints = [
        format!("s3.{suffix}"),
        format!("s3.{region}.{suffix}"),
        format!("s3-{region}.{suffix}"),
        format!("s3.dualstack.{region}.{suffix}"),
    ];
    if let Some(endpoint) = host.strip_prefix(&format!("{bucket}.")) {
        return endpoints.iter().any(|e| e == endpoint) && path.starts_with('/');
    }
    endpoints.contains(&host)
        && path
            .strip_prefix('/')
            .and_then(|p| p.strip_prefix(bucket.as_str()))
            .is_some_and(|p| p.starts_with('/'))
}

/// Examples of the rule, `(region, url, trusted)`: every partition's forms and the
/// lookalikes that are refused. The tests of this module and of `respond.sh` (which applies
/// the same rule in shell) both run them, so the two implementations cannot drift apart.
pub const EXAMPLES: &[(&str, &str, bool)] = &[
    (
        "us-east-1",
        "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws/x?X-Amz-Signature=1",
        true,
    ),
    (
        "us-east-1",
        "https://cloudformation-custom-resource-response-useast1.s3.us-east-1.amazonaws.com/k",
        true,
    ),
    (
        "eu-west-1",
        "https://cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com/k",
        true,
    ),
    (
        "eu-west-1",
        "https://cloudformation-custom-resource-response-euwest1.s3.dualstack.eu-west-1.amazonaws.com/k",
        true,
    ),
    (
        "ap-southeast-2",
        "https://s3.ap-southeast-2.amazonaws.com/cloudformation-custom-resource-response-apsoutheast2/k",
        true,
    ),
    (
        "cn-north-1",
        "https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/k",
        true,
    ),
    (
        "us-gov-west-1",
        "https://cloudformation-custom-resource-response-usgovwest1.s3.us-gov-west-1.amazonaws.com/k",
        true,
    ),
    (
        "us-iso-east-1",
        "https://cloudformation-custom-resource-response-usisoeast1.s3.us-iso-east-1.c2s.ic.gov/k",
        true,
    ),
    (
        "us-isob-east-1",
        "https://cloudformation-custom-resource-response-usisobeast1.s3.us-isob-east-1.sc2s.sgov.gov/k",
        true,
    ),
    (
        "us-isof-south-1",
        "https://cloudformation-custom-resource-response-usisofsouth1.s3.us-isof-south-1.csp.hci.ic.gov/k",
        true,
    ),
    (
        "eu-isoe-west-1",
        "https://cloudformation-custom-resource-response-euisoewest1.s3.eu-isoe-west-1.cloud.adc-e.uk/k",
        true,
    ),
    (
        "eusc-de-east-1",
        "https://cloudformation-custom-resource-response-euscdeeast1.s3.eusc-de-east-1.amazonaws.eu/k",
        true,
    ),
    (
        "us-east-1",
        "https://attacker-bucket.s3.amazonaws.com/k",
        false,
    ),
    (
        "us-east-1",
        "https://cloudformation-custom-resource-response-useast1x.s3.amazonaws.com/k",
        false,
    ),
    (
        "us-east-1",
        "https://cloudformation-custom-resource-response-uswest2.s3.amazonaws.com/k",
        false,
    ),
    (
        "us-east-1",
        "https://s3.amazonaws.com/attacker/cloudformation-custom-resource-response-useast1/k",
        false,
    ),
    (
        "us-east-1",
        "https://s3.amazonaws.com/cloudformation-custom-resource-response-useast1",
        false,
    ),
    (
        "us-east-1",
        "http://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/k",
        false,
    ),
    (
        "us-east-1",
        "https://user@cloudformation-custom-resource-response-useast1.s3.amazonaws.com/k",
        false,
    ),
    (
        "us-east-1",
        "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com:8443/k",
        false,
    ),
    (
        "us-east-1",
        "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com.evil.example/k",
        false,
    ),
    (
        "us-east-1",
        "https://evil.example/cloudformation-custom-resource-response-useast1.s3.amazonaws.com",
        false,
    ),
    (
        "us-east-1",
        "https://Cloudformation-Custom-Resource-Response-Useast1.S3.Amazonaws.com/k",
        true,
    ),
    (
        "cn-north-1",
        "https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com/k",
        false,
    ),
    (
        "",
        "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/k",
        false,
    ),
    (
        "us-east-1",
        "https://execute-api.us-east-1.amazonaws.com/k",
        false,
    ),
    (
        "us-east-1",
        "https://abc.lambda-url.us-east-1.on.aws/k",
        false,
    ),
    (
        "us-east-1",
        "https://cloudformation-custom-resource-response-useast1.s3.us-east-1.amazonaws.com.cn/k",
        false,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    const STACK: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/0f3e8c10-1234-11ef-9d3a-0a1b2c3d4e5f";

    #[test]
    fn cloudformation_response_hosts_of_every_partition_are_trusted_and_lookalikes_not() {
        for &(region, url, trusted) in EXAMPLES {
            assert_eq!(
                is_cloudformation_response_url(url, region),
                trusted,
                "{url} in {region:?}"
            );
        }
        assert!(
            EXAMPLES.iter().filter(|e| e.2).count() >= 10,
            "every partition"
        );
        assert!(
            EXAMPLES.iter().filter(|e| !e.2).count() >= 10,
            "the lookalikes"
        );
        assert!(!is_cloudformation_response_url("", "us-east-1"));
    }

    #[test]
    fn partitions_come_from_one_table() {
        assert_eq!(dns_suffix("us-east-1"), "amazonaws.com");
        assert_eq!(dns_suffix("cn-northwest-1"), "amazonaws.com.cn");
        assert_eq!(dns_suffix("us-gov-east-1"), "amazonaws.com");
        assert_eq!(dns_suffix("us-iso-west-1"), "c2s.ic.gov");
        assert_eq!(dns_suffix("us-isof-south-1"), "csp.hci.ic.gov");
        assert_eq!(dns_suffix("eu-isoe-west-1"), "cloud.adc-e.uk");
    }

    #[test]
    fn parameter_names_belong_to_their_stack() {
        let request = CfnRequest {
            request_type: crate::event::RequestType::Create,
            response_url: "https://x".into(),
            stack_id: STACK.into(),
            request_id: "r-1".into(),
            resource_type: "Custom::ContainerImageBuild".into(),
            logical_resource_id: "Api".into(),
            physical_resource_id: None,
            resource_properties: serde_json::Map::new(),
            old_resource_properties: None,
            queue_retry: None,
        };
        let name = parameter_name(&request).expect("a stack ARN");
        assert!(
            name.starts_with(
                "/ContainerImageBuild/responses/0f3e8c10-1234-11ef-9d3a-0a1b2c3d4e5f/"
            ),
            "{name}"
        );
        assert!(is_parameter_of(&name, STACK));
        assert!(!is_parameter_of(
            &name,
            "arn:aws:cloudformation:us-east-1:123456789012:stack/other/99999999-0000"
        ));
        assert!(!is_parameter_of("/other/parameter", STACK));
        assert!(!is_parameter_of(
            "/ContainerImageBuild/responses/0f3e8c10-1234-11ef-9d3a-0a1b2c3d4e5f/../x",
            STACK
        ));
    }
}
