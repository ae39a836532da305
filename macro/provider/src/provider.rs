//! The provider itself: its AWS clients and settings, and the one way it answers
//! CloudFormation (every answer passes the response-URL rule before its PUT).

use serde_json::{Value, json};

use crate::aws::{Clients, respond};
use crate::error::ProviderError;
use crate::log::LogContext;
use crate::response::CfnResponse;
use crate::settings::Settings;

/// The provider: AWS clients and settings.
#[derive(Debug, Clone)]
pub struct Provider {
    /// The AWS clients.
    pub clients: Clients,
    /// Pacing and test switches.
    pub settings: Settings,
}

impl Provider {
    /// A provider over `clients`.
    pub fn new(clients: Clients, settings: Settings) -> Provider {
        Provider { clients, settings }
    }
    /// Sends one answer and logs it.
    pub(crate) async fn answer(
        &self,
        log: &LogContext,
        url: &str,
        response: CfnResponse,
    ) -> Result<Value, ProviderError> {
        // Never a PUT to a URL that is not CloudFormation's response bucket: the URL came
        // with the request, and whoever wrote the request chose it.
        if let Some(reason) = self.untrusted_response_url(url) {
            return Ok(log.refused("response-url", &reason));
        }
        let body = response.to_body();
        log.info(
            "answering CloudFormation",
            json!({"status": response.status, "reason": response.reason,
                   "physicalResourceId": response.physical_resource_id, "bytes": body.len()}),
        );
        if let Err(e) = respond::put(url, body).await {
            log.error("answer not delivered", json!({"error": e.to_string()}));
            return Err(e);
        }
        Ok(json!({"action": "answered", "status": response.status}))
    }
    /// Why `url` is not answered, when it is not CloudFormation's response bucket of this
    /// region (the one rule every PUT and the gate apply).
    pub(crate) fn untrusted_response_url(&self, url: &str) -> Option<String> {
        (!self.trusted_response_url(url)).then(|| {
            format!(
                "the response URL is not CloudFormation's response bucket in {}",
                self.clients.home_region
            )
        })
    }

    /// Response URLs read back for a build-state event are answered only when they are
    /// CloudFormation's response bucket of this region ([`crate::gate::response_url`]).
    pub(crate) fn trusted_response_url(&self, url: &str) -> bool {
        if self.settings.allow_http_response_url {
            return url.starts_with("http://") || url.starts_with("https://");
        }
        crate::gate::response_url::is_cloudformation_response_url(url, &self.clients.home_region)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_config::{BehaviorVersion, Region, SdkConfig};

    fn provider(allow_http: bool) -> Provider {
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .build();
        let settings = Settings {
            allow_http_response_url: allow_http,
            ..Settings::default()
        };
        Provider::new(Clients::new(sdk), settings)
    }

    #[test]
    fn only_presigned_aws_urls_are_trusted_from_builds() {
        let p = provider(false);
        assert!(p.trusted_response_url(
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?sig=1"
        ));
        assert!(!p.trusted_response_url("http://cloudformation.s3.amazonaws.com/x"));
        assert!(!p.trusted_response_url("https://attacker.s3.amazonaws.com/x"));
        assert!(!p.trusted_response_url("https://evil.example/x"));
        assert!(!p.trusted_response_url("https://user@evil.example/.amazonaws.com"));
        assert!(provider(true).trusted_response_url("http://127.0.0.1:9/x"));
    }
}
