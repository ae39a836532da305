//! The support stack: where `cib deploy` finds the provider and the artifact bucket.

use crate::aws::{Clients, cfn};

/// The support stack's default name.
pub const DEFAULT_STACK: &str = "ContainerImageBuild";
/// The output holding the provider's Lambda ARN (the triggers' ServiceToken).
pub const PROVIDER_OUTPUT: &str = "ProviderArn";
/// The output holding the bucket for packaged contexts and large templates.
pub const BUCKET_OUTPUT: &str = "ArtifactBucket";

/// What a deploy needs from the support stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Support {
    /// The provider's ARN; `None` leaves the engine's default, the support stack's fixed
    /// function name `ContainerImageBuild-Provider` in the stack's account and region.
    pub provider_arn: Option<String>,
    /// The artifact bucket: the `ArtifactBucket` output, else the parameter of that name.
    pub bucket: Option<String>,
}

/// Reads the support stack's outputs; a missing stack says to run `cib bootstrap`.
pub async fn lookup(clients: &Clients, stack_name: &str) -> Result<Support, String> {
    let stack = cfn::stack(&clients.cfn, stack_name)
        .await?
        .ok_or_else(|| {
            format!(
                "the support stack {stack_name} is not deployed in {region}: run `cib bootstrap --region {region}` first",
                region = clients.region
            )
        })?;
    Ok(Support {
        provider_arn: stack.outputs.get(PROVIDER_OUTPUT).cloned(),
        bucket: stack
            .outputs
            .get(BUCKET_OUTPUT)
            .or_else(|| stack.parameters.get(BUCKET_OUTPUT))
            .cloned(),
    })
}
