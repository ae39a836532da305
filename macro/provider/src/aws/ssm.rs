//! SSM Parameter Store calls for the response parameter: write, read, delete.

use aws_sdk_ssm::Client;
use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::operation::delete_parameter::DeleteParameterError;
use aws_sdk_ssm::types::ParameterType;

use crate::error::ProviderError;

fn describe<E>(err: &aws_sdk_ssm::error::SdkError<E>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match (err.code(), err.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => aws_sdk_ssm::error::DisplayErrorContext(err).to_string(),
    }
}

/// Writes `value` as the SecureString parameter `name` (standard tier, up to 4 KB; the
/// account's default key `aws/ssm`), replacing an earlier value of a repeated delivery.
/// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
pub async fn put_secure(client: &Client, name: &str, value: &str) -> Result<(), ProviderError> {
    client
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(ParameterType::SecureString)
        .overwrite(true)
        .description("CloudFormation response URL of one ContainerImageBuild build")
        .send()
        .await
        .map_err(|e| ProviderError::Aws {
            operation: "SSM PutParameter",
            message: describe(&e),
        })?;
    Ok(())
}

/// The decrypted value of parameter `name`.
pub async fn get_secure(client: &Client, name: &str) -> Result<String, ProviderError> {
    let out = client
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| ProviderError::Aws {
            operation: "SSM GetParameter",
            message: describe(&e),
        })?;
    out.parameter()
        .and_then(|p| p.value())
        .map(str::to_string)
        .ok_or_else(|| ProviderError::Aws {
            operation: "SSM GetParameter",
            message: format!("parameter {name} has no value"),
        })
}

/// Deletes parameter `name`; one already gone counts as deleted.
pub async fn delete(client: &Client, name: &str) -> Result<(), ProviderError> {
    match client.delete_parameter().name(name).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if matches!(
                e.as_service_error(),
                Some(DeleteParameterError::ParameterNotFound(_))
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(ProviderError::Aws {
            operation: "SSM DeleteParameter",
            message: describe(&e),
        }),
    }
}
