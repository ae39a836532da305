//! The contract between the engine (which writes expanded templates), the provider (which
//! runs at deploy time) and the CLI: names, limits and paths each side must agree on.
//!
//! No dependencies and no I/O: both the transform Lambda and the provider link it, and a
//! constant lives here once so the two sides can never disagree about it.

/// Version of the trigger's property contract (docs/expansion.md); bumped on an
/// incompatible change. The provider refuses a trigger whose version it does not know.
///
/// Version 3 added `Source.ImageTarball` (a ready image pushed by the provider, no build).
/// A version-2 trigger means the same under version 3, so a version-3 provider builds it;
/// a version-2 provider refuses a version-3 trigger by its version (update the support
/// stack) instead of misreading a tarball as a build context.
pub const CONTRACT_VERSION: &str = "3";

/// Earlier contract versions whose triggers mean the same under [`CONTRACT_VERSION`]: the
/// provider handles them in full.
pub const SAME_MEANING_CONTRACT_VERSIONS: &[&str] = &["2"];

/// Longest value of one CodeBuild environment variable, in characters, for project
/// variables and StartBuild overrides alike (`InvalidInputException: EnvironmentVariable
/// should be at most 4096 characters`; AWS-FACTS.md section 12).
pub const ENV_VALUE_MAX_CHARS: usize = 4096;

/// Environment-variable names the build owns: a build argument of one of these names
/// would override the build's own environment (each build argument reaches the build as
/// a variable of its own name).
pub const RESERVED_BUILD_ARG_NAMES: &[&str] = &[
    "PATH",
    "HOME",
    "PWD",
    "OLDPWD",
    "SHELL",
    "USER",
    "HOSTNAME",
    "IFS",
    "TERM",
    "LANG",
    "TMPDIR",
    "SHLVL",
    "ENV",
    "CDPATH",
    "PS4",
    "GLOBIGNORE",
    "POSIXLY_CORRECT",
];

/// Environment-variable prefixes the build owns (compared case-insensitively).
pub const RESERVED_BUILD_ARG_PREFIXES: &[&str] = &[
    "AWS_",
    "CODEBUILD_",
    "CIB_",
    "DOCKER_",
    "BUILDKIT_",
    "BUILDX_",
    "BASH",
    "LD_",
    "LC_",
];

/// True when `name` may not be used as a build argument.
pub fn is_reserved_build_arg(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    RESERVED_BUILD_ARG_NAMES.contains(&upper.as_str())
        || RESERVED_BUILD_ARG_PREFIXES
            .iter()
            .any(|prefix| upper.starts_with(prefix))
}

/// Logical-ID prefix of the template's shared CodeBuild projects. A project is named
/// `<stack name>-<logical ID>`, so `*-ContainerImageBuildProject*` names every project the
/// expansion writes (the provider's IAM scope and the build-state rule's filter).
pub const PROJECT_ID_PREFIX: &str = "ContainerImageBuildProject";

/// Namespace of the repositories the expansion names: `cib/<logical id>-<stack uuid>`.
/// Replica regions' repository creation templates are keyed on it.
pub const REPOSITORY_NAMESPACE: &str = "cib";

/// Namespace of the per-template registry-cache repositories: `cib-cache/<stack uuid>`.
/// No replication filter of ours matches it (filters are prefixes of `cib/...`).
pub const CACHE_REPOSITORY_NAMESPACE: &str = "cib-cache";

/// Repository (in the account's own registry) that holds the pinned BuildKit image the
/// builds start their builder from, so no build pulls from Docker Hub.
pub const BUILDER_REPOSITORY: &str = "cib-tools/buildkit";

/// The BuildKit image `cib bootstrap` copies into [`BUILDER_REPOSITORY`], pinned by the
/// digest of its multi-platform index (moby/buildkit v0.32.0 on Docker Hub). The copy keeps
/// the digest, so the builds start `<registry>/cib-tools/buildkit@<this digest>`.
pub const BUILDER_SOURCE_IMAGE: &str = "docker.io/moby/buildkit:v0.32.0@sha256:1f8167fcb0eca5b7126353d35299386945cbb8949cc516c592a49f80cfce4fa2";

/// Prefix of the SSM parameters (SecureString) that hold a build's CloudFormation
/// response URL, so the URL is never a PLAINTEXT build variable. The full name is
/// `<prefix><stack uuid>/<request hash>`.
pub const RESPONSE_PARAMETER_PREFIX: &str = "/ContainerImageBuild/responses/";

/// Partitions by region-name prefix, with their DNS suffix (the one table the provider and
/// `cib plan` keep). The first matching prefix wins, so the longer ISO prefixes come before `us-`.
/// Sources: the partition list of the AWS SDKs (`partitions.json` in smithy-rs /
/// aws-sdk-rust `aws-endpoint`): aws `amazonaws.com`, aws-cn `amazonaws.com.cn`,
/// aws-us-gov `amazonaws.com`, aws-iso `c2s.ic.gov`, aws-iso-b `sc2s.sgov.gov`, aws-iso-e
/// `cloud.adc-e.uk`, aws-iso-f `csp.hci.ic.gov`, aws-eusc `amazonaws.eu`.
const PARTITIONS: [(&str, &str); 8] = [
    ("cn-", "amazonaws.com.cn"),
    ("us-gov-", "amazonaws.com"),
    ("us-isob-", "sc2s.sgov.gov"),
    ("us-isof-", "csp.hci.ic.gov"),
    ("us-iso-", "c2s.ic.gov"),
    ("eu-isoe-", "cloud.adc-e.uk"),
    ("eusc-", "amazonaws.eu"),
    ("", "amazonaws.com"),
];

/// The DNS suffix of `region`'s partition.
pub fn dns_suffix(region: &str) -> &'static str {
    PARTITIONS
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map(|(_, suffix)| *suffix)
        .unwrap_or("amazonaws.com")
}

/// The fields of an ARN, `arn:<partition>:<service>:<region>:<account>:<resource>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArnFields<'a> {
    /// `aws`, `aws-cn`, ...
    pub partition: &'a str,
    /// The service prefix (`ecr`, `cloudformation`, ...).
    pub service: &'a str,
    /// The region (empty for global services).
    pub region: &'a str,
    /// The account (empty for some services).
    pub account: &'a str,
    /// Everything after the fifth colon (it may hold colons and slashes).
    pub resource: &'a str,
}

/// Splits an ARN into its fields; `None` when it does not start with `arn:` or has fewer
/// than six colon-separated fields.
pub fn arn_fields(arn: &str) -> Option<ArnFields<'_>> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    Some(ArnFields {
        partition: parts.next()?,
        service: parts.next()?,
        region: parts.next()?,
        account: parts.next()?,
        resource: parts.next()?,
    })
}

/// The last segment of a stack ARN (`arn:<partition>:cloudformation:<region>:<account>:
/// stack/<name>/<uuid>`): unique for every stack ever created, unlike its name.
pub fn stack_uuid(stack_id: &str) -> Option<&str> {
    let mut parts = stack_id.rsplit('/');
    let uuid = parts.next()?;
    let _name = parts.next()?;
    (!uuid.is_empty()).then_some(uuid)
}

/// The SSM parameter name that carries the response URL of `request_hash` in stack
/// `stack_id`, or `None` when `stack_id` is not a stack ARN.
pub fn response_parameter_name(stack_id: &str, request_hash: &str) -> Option<String> {
    stack_uuid(stack_id).map(|uuid| format!("{RESPONSE_PARAMETER_PREFIX}{uuid}/{request_hash}"))
}

/// The lifecycle policy of image repositories: untagged images expire 30 days after push; a
/// tagged image is never expired, because Lambda pins images by digest and a count rule
/// would break the next update or rollback of a function that still uses one. The engine
/// writes it on every generated repository, the provider on the replica repositories it
/// creates, and the support stack's repository creation template holds the same text (a
/// test compares them).
pub const IMAGE_LIFECYCLE_POLICY: &str = r#"{"rules":[{"rulePriority":1,"description":"Expire untagged images 30 days after push; tagged images are never expired","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":30},"action":{"type":"expire"}}]}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_cover_the_build_environment() {
        for name in [
            "PATH",
            "path",
            "AWS_REGION",
            "CIB_IMAGE_URI",
            "DOCKER_HOST",
            "codebuild_x",
        ] {
            assert!(is_reserved_build_arg(name), "{name}");
        }
        for name in ["VERSION", "API_URL", "PATHS_", "STAGE"] {
            assert!(!is_reserved_build_arg(name), "{name}");
        }
    }

    #[test]
    fn an_arn_splits_into_its_fields_with_the_resource_whole() {
        let fields =
            arn_fields("arn:aws-cn:ecr:cn-north-1:111122223333:repository/a:b/c").expect("an ARN");
        assert_eq!(
            (
                fields.partition,
                fields.service,
                fields.region,
                fields.account
            ),
            ("aws-cn", "ecr", "cn-north-1", "111122223333")
        );
        assert_eq!(fields.resource, "repository/a:b/c");
        assert_eq!(
            arn_fields("arn:aws:s3:::bucket").map(|f| f.resource),
            Some("bucket")
        );
        assert_eq!(arn_fields("urn:aws:ecr:r:1:x"), None);
        assert_eq!(arn_fields("arn:aws:ecr"), None);
    }

    #[test]
    fn stack_uuid_is_the_last_arn_segment() {
        let arn = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/0f3e8c10-1234-11ef-9d3a-0a1b2c3d4e5f";
        assert_eq!(
            stack_uuid(arn),
            Some("0f3e8c10-1234-11ef-9d3a-0a1b2c3d4e5f")
        );
        assert_eq!(stack_uuid("not-an-arn"), None);
        assert_eq!(stack_uuid("stack/app/"), None);
        assert_eq!(
            response_parameter_name(arn, "ab12").as_deref(),
            Some("/ContainerImageBuild/responses/0f3e8c10-1234-11ef-9d3a-0a1b2c3d4e5f/ab12")
        );
    }
}
