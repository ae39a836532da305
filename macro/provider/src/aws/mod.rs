//! Thin adapters over the AWS SDK and the HTTP PUT of the response. No decisions here: they
//! translate plain data to calls and errors to [`crate::error::ProviderError`].

pub mod cloudformation;
pub mod codebuild;
pub mod ecr;
pub mod invoke;
pub mod respond;
pub mod s3;
pub mod ssm;
pub mod state;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// Attempts per AWS call, throttling included (the SDK backs off exponentially with jitter).
pub const MAX_ATTEMPTS: u32 = 8;

/// The clients the provider uses, all from one configuration.
#[derive(Clone, Debug)]
pub struct Clients {
    sdk: SdkConfig,
    /// The provider's own region (the stack's).
    pub home_region: String,
    /// CloudFormation in the home region (the gate's reads of the requesting stack).
    pub cloudformation: aws_sdk_cloudformation::Client,
    /// CodeBuild in the home region.
    pub codebuild: aws_sdk_codebuild::Client,
    /// ECR in the home region.
    pub ecr: aws_sdk_ecr::Client,
    /// SSM Parameter Store in the home region (the response parameters).
    pub ssm: aws_sdk_ssm::Client,
    /// DynamoDB in the home region (the support stack's state table).
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// Lambda in the home region (the provider re-invoking itself).
    pub lambda: aws_sdk_lambda::Client,
    /// S3 in the home region (image tarballs).
    pub s3: aws_sdk_s3::Client,
}

impl Clients {
    /// Loads the configuration from the environment (`AWS_REGION`, credentials,
    /// `AWS_ENDPOINT_URL` …) with standard retries.
    pub async fn from_env() -> Clients {
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            .load()
            .await;
        Clients::new(sdk)
    }

    /// Clients from an existing configuration.
    pub fn new(sdk: SdkConfig) -> Clients {
        let home_region = sdk.region().map(|r| r.to_string()).unwrap_or_default();
        Clients {
            cloudformation: aws_sdk_cloudformation::Client::new(&sdk),
            codebuild: aws_sdk_codebuild::Client::new(&sdk),
            ecr: aws_sdk_ecr::Client::new(&sdk),
            ssm: aws_sdk_ssm::Client::new(&sdk),
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            lambda: aws_sdk_lambda::Client::new(&sdk),
            // A custom endpoint (local tests, S3-compatible stores) is addressed by path;
            // AWS itself by virtual host.
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&sdk)
                    .force_path_style(sdk.endpoint_url().is_some())
                    .build(),
            ),
            home_region,
            sdk,
        }
    }

    /// An ECR client for another region of the same account (replicas).
    pub fn ecr_in(&self, region: &str) -> aws_sdk_ecr::Client {
        let config = aws_sdk_ecr::config::Builder::from(&self.sdk)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_ecr::Client::from_conf(config)
    }
}

/// The code and message of an SDK error, for reasons and logs.
pub fn describe<E>(err: &aws_sdk_ecr::error::SdkError<E>) -> String
where
    E: aws_sdk_ecr::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    use aws_sdk_ecr::error::ProvideErrorMetadata;
    match (err.code(), err.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => aws_sdk_ecr::error::DisplayErrorContext(err).to_string(),
    }
}
