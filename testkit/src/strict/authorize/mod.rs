//! IAM, enforced: every request signed with a principal's access key is authorized against
//! that principal's identity policies, as IAM would, before moto sees it.
//!
//! moto does not enforce IAM unless told to, and then checks actions only. Here a test
//! declares a principal ([`super::StrictProxy::enforce`]): an access key id, a name (the role
//! it stands for) and the exact policy documents that role holds in AWS (the support stack's
//! roles as `deploy/support-stack.yaml` writes them, the build role as the expansion writes
//! it). A request signed with that key is mapped to IAM's action, resource ARNs (region and
//! account included) and condition keys ([`request`]) and evaluated ([`policy`]); a denied
//! one is answered with the error AWS answers (`AccessDeniedException`, or S3's and the
//! Query protocol's `AccessDenied`) and recorded as a [`Denied`] with the statement it
//! lacked. Requests signed with any other key (a test's own setup) pass.

pub mod policy;
pub mod request;

use serde_json::Value;

pub use policy::{Denial, Request, evaluate};

/// A principal whose requests are authorized.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The role it stands for (in messages).
    pub name: String,
    /// Its identity-policy documents, resolved (no intrinsic functions).
    pub policies: Vec<Value>,
}

/// A request the strict layer denied, as IAM would have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// The principal's name.
    pub principal: String,
    /// The message AWS would answer, followed by what the policy lacked.
    pub message: String,
}

/// The access key id of a SigV4 `Authorization` header.
pub fn access_key_of_authorization(header: &str) -> Option<&str> {
    let scope = header.split("Credential=").nth(1)?;
    scope.split('/').next()
}

/// Authorizes `http` for `principal`: `Err` with the message of the denial.
pub fn authorize(principal: &Principal, http: &request::Http<'_>) -> Result<(), String> {
    let request = request::of_http(http)
        .map_err(|why| format!("{} cannot be authorized: {why}", principal.name))?;
    evaluate(&principal.policies, &request).map_err(|denial| {
        format!(
            "User: arn:{}:sts::{}:assumed-role/{}/test is not authorized to perform: {} on \
             resource: {}: {}",
            request::partition(http.region),
            http.account,
            principal.name,
            denial.action,
            denial.resource,
            denial.reason
        )
    })
}

/// How a service answers a denied request: (HTTP status, content type, body).
pub fn denied_answer(
    service: &str,
    json_protocol: bool,
    message: &str,
) -> (u16, &'static str, String) {
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    if json_protocol {
        let body = serde_json::json!({"__type": "AccessDeniedException", "message": message});
        return (400, "application/x-amz-json-1.1", body.to_string());
    }
    match service {
        "s3" => (
            403,
            "application/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>{escaped}</Message></Error>"
            ),
        ),
        "lambda" | "inspector2" => (
            403,
            "application/json",
            serde_json::json!({"Type": "User", "message": message}).to_string(),
        ),
        _ => (
            403,
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>{escaped}</Message></Error><RequestId>cib-strict-layer</RequestId></ErrorResponse>"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_denial_names_the_role_action_resource_and_the_statement_lacking() {
        let principal = Principal {
            name: "ProviderRole".into(),
            policies: vec![json!({"Statement": [{"Sid": "Own", "Effect": "Allow",
                "Action": "ssm:GetParameter",
                "Resource": "arn:aws:ssm:us-east-1:123456789012:parameter/ContainerImageBuild/*"}]})],
        };
        let http = request::Http {
            service: "ssm",
            region: "us-east-1",
            account: "123456789012",
            method: "POST",
            path: "/",
            query: "",
            target: Some("AmazonSSM.GetParameter"),
            body: br#"{"Name": "/other/secret"}"#,
        };
        let message = authorize(&principal, &http).expect_err("denied");
        assert!(message.contains("assumed-role/ProviderRole"), "{message}");
        assert!(message.contains("ssm:GetParameter"), "{message}");
        assert!(message.contains("parameter/other/secret"), "{message}");
        assert!(message.contains("Own"), "{message}");
        let ok = request::Http {
            body: br#"{"Name": "/ContainerImageBuild/responses/x"}"#,
            ..http
        };
        assert_eq!(authorize(&principal, &ok), Ok(()));
    }

    #[test]
    fn the_access_key_is_the_credential_scope_s_first_part() {
        let header = "AWS4-HMAC-SHA256 Credential=AKIDPROVIDER/20261208/us-east-1/ssm/aws4_request, SignedHeaders=host";
        assert_eq!(access_key_of_authorization(header), Some("AKIDPROVIDER"));
    }
}
