//! Thin adapters over the AWS SDK: configuration from the standard chain, and one module
//! per service. No decisions here: plain data in and out, errors as readable strings.

pub mod cfn;
pub mod codebuild;
pub mod ecr;
pub mod s3;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// The clients a command uses, all from one configuration.
#[derive(Debug, Clone)]
pub struct Clients {
    /// The region every client talks to.
    pub region: String,
    /// Amazon S3.
    pub s3: aws_sdk_s3::Client,
    /// AWS CloudFormation.
    pub cfn: aws_sdk_cloudformation::Client,
    /// Amazon ECR.
    pub ecr: aws_sdk_ecr::Client,
    /// AWS CodeBuild (the last build of an image).
    pub codebuild: aws_sdk_codebuild::Client,
    /// AWS STS (the caller's account).
    pub sts: aws_sdk_sts::Client,
    /// The configuration the clients were made from (for clients in other regions).
    pub config: SdkConfig,
}

impl Clients {
    /// Loads credentials, region and endpoints from the standard chain (profiles,
    /// `AWS_*` environment variables, `AWS_ENDPOINT_URL`); `region` overrides the chain's.
    pub async fn load(region: Option<&str>) -> Result<Clients, String> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = region {
            loader = loader.region(Region::new(region.to_owned()));
        }
        let sdk = loader.load().await;
        Clients::new(&sdk)
    }

    /// Clients from an existing configuration; fails when no region is known.
    pub fn new(sdk: &SdkConfig) -> Result<Clients, String> {
        let region = sdk.region().map(|r| r.to_string()).ok_or_else(|| {
            "no AWS region: pass --region, or set AWS_REGION or a profile's region".to_owned()
        })?;
        // Path-style addressing works with every endpoint (moto, MinIO, dotted bucket names).
        let s3_config = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build();
        Ok(Clients {
            region,
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            cfn: aws_sdk_cloudformation::Client::new(sdk),
            ecr: aws_sdk_ecr::Client::new(sdk),
            codebuild: aws_sdk_codebuild::Client::new(sdk),
            sts: aws_sdk_sts::Client::new(sdk),
            config: sdk.clone(),
        })
    }

    /// An ECR client for `region`, with the same credentials and endpoint.
    pub fn ecr_in(&self, region: &str) -> aws_sdk_ecr::Client {
        let config = aws_sdk_ecr::config::Builder::from(&self.config)
            .region(Region::new(region.to_owned()))
            .build();
        aws_sdk_ecr::Client::from_conf(config)
    }

    /// A CloudFormation client for `region`, with the same credentials and endpoint.
    pub fn cfn_in(&self, region: &str) -> aws_sdk_cloudformation::Client {
        let config = aws_sdk_cloudformation::config::Builder::from(&self.config)
            .region(Region::new(region.to_owned()))
            .build();
        aws_sdk_cloudformation::Client::from_conf(config)
    }

    /// The account the credentials belong to.
    pub async fn account_id(&self) -> Result<String, String> {
        let identity = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| format!("cannot read the caller's identity: {}", describe(&e)))?;
        identity
            .account()
            .map(str::to_owned)
            .ok_or_else(|| "sts:GetCallerIdentity returned no account".to_owned())
    }
}

/// A tokio runtime for one command.
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

/// Runs a command's async body to completion and turns its outcome into the exit code:
/// 0 on success, 1 with `error: <message>` on standard error otherwise.
pub fn run_command<F>(body: F) -> std::process::ExitCode
where
    F: std::future::Future<Output = Result<(), String>>,
{
    match runtime().and_then(|rt| rt.block_on(body)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The code and message of an SDK error (any service: the error types are shared).
pub fn describe<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match (err.code(), err.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => DisplayErrorContext(err).to_string(),
    }
}
