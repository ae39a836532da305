//! Private base images: the ECR repositories a build pulls from (`PullFromRepositories`),
//! in other regions or accounts of the stack's partition. The build role may pull them
//! (scoped to those ARNs) and the build logs in to each of their registries before it
//! builds (`CIB_PULL_REGISTRIES`, read by `assets/login.sh`).

use std::collections::BTreeSet;

use crate::spec::ImageSpec;

/// Environment variable of the project naming the registries to log in to, as
/// space-separated `<region>:<account>` pairs.
pub const PULL_REGISTRIES_VARIABLE: &str = "CIB_PULL_REGISTRIES";

/// The (partition, region, account) of an ECR repository ARN
/// (`arn:<partition>:ecr:<region>:<account>:repository/<name>`).
pub fn arn_parts(arn: &str) -> Option<(&str, &str, &str)> {
    let fields = cib_contract::arn_fields(arn)?;
    (fields.service == "ecr" && fields.resource.starts_with("repository/")).then_some((
        fields.partition,
        fields.region,
        fields.account,
    ))
}

/// The registries `images` pull from, as `<region>:<account>`, sorted and distinct.
pub fn registries<'a>(images: impl IntoIterator<Item = &'a ImageSpec>) -> Vec<String> {
    images
        .into_iter()
        .flat_map(|image| image.pull_from_repositories.iter())
        .filter_map(|arn| arn_parts(arn))
        .map(|(_, region, account)| format!("{region}:{account}"))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_arn_names_its_registry() {
        assert_eq!(
            arn_parts("arn:aws:ecr:eu-west-1:111122223333:repository/base/*"),
            Some(("aws", "eu-west-1", "111122223333"))
        );
        assert_eq!(arn_parts("arn:aws:s3:::bucket"), None);
        assert_eq!(
            arn_parts("111122223333.dkr.ecr.eu-west-1.amazonaws.com/base"),
            None
        );
    }
}
