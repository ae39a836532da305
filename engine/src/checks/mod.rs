//! Synth-time checks. Each check is its own module with its ids and messages; this
//! module runs them all and lists them (the README's table is generated from [`CATALOG`]).

pub mod build_args;
pub mod codebuild_regions;
pub mod cycles;
pub mod delete_without_empty;
pub mod env_values;
pub mod fixed_tag_replicas;
pub mod ids;
pub mod lambda;
pub mod lambda_index;
pub mod lambda_platform_uri;
pub mod logs;
pub mod multi_platform_fixed_tag;
pub mod multi_platform_repository;
pub mod policy_size;
pub mod pull_partition;
pub mod regions;
pub mod replication_limits;
pub mod replication_registry;
pub mod retained_names;
pub mod scan_fixed_tag;
pub mod scan_on_push;
pub mod tags;
pub mod tarball;
pub mod template_limits;
pub mod timeout;
pub mod unknown_tags;
pub mod vpc_cross_region;
pub mod worst_case;

use serde_json::Value;

use crate::finding::{Finding, Severity};
use crate::options::Written;
use crate::spec::ImageSpec;

/// What every check sees.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The validated images, in template order (a multi-platform image as one image per
    /// platform).
    pub images: &'a [ImageSpec],
    /// The multi-platform images, each with its platforms.
    pub indexes: &'a [(ImageSpec, Vec<crate::platform::Platform>)],
    /// The template as the user wrote it (long form).
    pub original: &'a Value,
    /// The expanded template.
    pub expanded: &'a Value,
    /// The stack's region, when known.
    pub region: Option<&'a str>,
    /// The text the expansion is written as.
    pub written: Written,
}

/// One entry of the check catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckInfo {
    /// Stable id.
    pub id: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// What it catches, in one line.
    pub summary: &'static str,
}

const fn error(id: &'static str, summary: &'static str) -> CheckInfo {
    CheckInfo {
        id,
        severity: Severity::Error,
        summary,
    }
}

const fn warning(id: &'static str, summary: &'static str) -> CheckInfo {
    CheckInfo {
        id,
        severity: Severity::Warning,
        summary,
    }
}

/// Every check the engine runs, in id order.
pub const CATALOG: &[CheckInfo] = &[
    error(
        ids::PARSE,
        "the template is not valid YAML or JSON (syntax, encoding, duplicate keys, alias or depth limits)",
    ),
    error(
        ids::STRUCTURE,
        "the template is not shaped like a CloudFormation template",
    ),
    error(
        ids::SCHEMA,
        "a property does not match schemas/container-image-build.json (unknown name, wrong type, value out of range)",
    ),
    error(
        ids::BUILD_ARG_NAME,
        "a BuildArgs name is not an identifier ([A-Za-z_][A-Za-z0-9_]*)",
    ),
    error(
        ids::BUILD_ARG_RESERVED,
        "a BuildArgs name would override the build's own environment (PATH, HOME, AWS_*, CODEBUILD_*, CIB_*, ...)",
    ),
    error(
        ids::DIRECTORY_SOURCE,
        "a local Source.Directory reached the macro or expand without `cib package`",
    ),
    error(
        ids::UNRESOLVABLE,
        "a property that decides the output's shape (Platform, ReplicaRegions, Source form, ...) is an intrinsic that cannot be resolved",
    ),
    error(
        ids::ID_COLLISION,
        "a generated logical ID is already used in the template, or longer than 255 characters",
    ),
    error(
        ids::SOURCE_FORM,
        "Source does not have exactly one of its four forms (S3 context, Directory, inline Dockerfile, ImageTarball)",
    ),
    error(
        ids::TAG_AND_PREFIX,
        "ImageTag and ImageTagPrefix are both set",
    ),
    error(
        ids::NAMED_LOG_GROUP_WITH_SETTINGS,
        "BuildLogs.LogGroupName together with RetentionInDays or KmsKeyId (the log groups the template creates are named by CloudFormation)",
    ),
    error(
        ids::TOO_MANY_RULES,
        "more than 10 replication rules (distinct replica-region sets) in the template",
    ),
    error(
        ids::TOO_MANY_DESTINATIONS,
        "more than 25 distinct replica regions in the template",
    ),
    error(
        ids::TOO_MANY_FILTERS,
        "more than 100 repositories in one replication rule",
    ),
    error(
        ids::CROSS_PARTITION,
        "a replica region in another partition than the stack (ECR cannot replicate across partitions)",
    ),
    error(
        ids::REPLICA_IS_STACK_REGION,
        "a replica region equal to the stack's own region",
    ),
    error(
        ids::MALFORMED_REGION,
        "a replica region that is not a region name of any partition",
    ),
    warning(
        ids::DUPLICATE_REPLICA,
        "the same replica region listed twice for one image",
    ),
    warning(
        ids::REGION_UNKNOWN,
        "the stack's region is unknown, so replicas are only checked against each other",
    ),
    warning(
        ids::UNKNOWN_REGION,
        "a well-formed replica region that no partition lists yet",
    ),
    error(
        ids::ARCHITECTURE_MISMATCH,
        "an arm64 image used by an x86_64 Lambda function, or the reverse",
    ),
    error(
        ids::ZSTD_IN_LAMBDA,
        "a zstd-compressed image used by a Lambda function",
    ),
    warning(
        ids::MUTABLE_TAG_IN_LAMBDA,
        "a fixed ImageTag consumed by Lambda by tag: a re-push leaves the pinned digest to expire",
    ),
    error(
        ids::TOO_MANY_RESOURCES,
        "more than 500 resources after expansion",
    ),
    error(ids::TEMPLATE_TOO_LARGE, "more than 1 MB after expansion"),
    warning(
        ids::TEMPLATE_NEEDS_S3,
        "more than 51,200 bytes after expansion: deploy it from S3",
    ),
    error(
        ids::TIMEOUT_TOO_LONG,
        "TimeoutInMinutes plus the replica wait and the vulnerability gate's scan wait does not fit in CloudFormation's 3600 s custom-resource timeout",
    ),
    error(
        ids::ENV_VALUE_TOO_LONG,
        "a literal BuildArgs value over 4096 characters, or an inline Source.Dockerfile over 4096 once gzip+base64-encoded (CodeBuild's limit per environment variable)",
    ),
    warning(
        ids::RETAINED_NAMED_REPOSITORY,
        "a Repository.RepositoryName that the stack retains on delete: the next deploy of the stack fails with \"already exists\"",
    ),
    error(
        ids::ROLE_POLICY_TOO_LARGE,
        "the build role's inline policy, with every intrinsic at its longest value, is over IAM's 10,240 characters per role",
    ),
    warning(
        ids::UNKNOWN_TAG_KEPT,
        "a YAML tag cib does not know (another pre-processor's, e.g. !Rain::Embed) outside our resources: kept as it is in YAML output; JSON output refuses it",
    ),
    error(
        ids::UNKNOWN_TAG_IN_IMAGE,
        "a YAML tag cib does not know inside a Custom::ContainerImageBuild resource",
    ),
    error(
        ids::DEPENDENCY_CYCLE,
        "an image depends on a resource that depends on the image (Ref, GetAtt, Sub, DependsOn): a cycle CloudFormation refuses",
    ),
    error(
        ids::LOOP_NOT_EXPANDABLE,
        "an Fn::ForEach loop declares a Custom::ContainerImageBuild but cannot be expanded (the macro listed before AWS::LanguageExtensions, a collection not known at expansion, a malformed loop)",
    ),
    error(
        ids::TARBALL_BUILD_PROPERTY,
        "a property only a build uses (Dockerfile, BuildArgs, ComputeType, ...) on an image whose Source is an ImageTarball",
    ),
    error(
        ids::TARBALL_NOT_PACKAGED,
        "a local Source.ImageTarball path reached the macro or expand without `cib package`",
    ),
    error(
        ids::TARBALL_REPOSITORY,
        "an ImageTarball image with Repository.RepositoryName or ExistingRepositoryName (the provider pushes only into generated cib/ repositories)",
    ),
    warning(
        ids::SCAN_WITHOUT_SCAN_ON_PUSH,
        "Scan on a repository with ImageScanOnPush: false: unless the registry uses enhanced scanning, no scan starts and the gate fails after its wait",
    ),
    error(
        ids::SCAN_WITH_FIXED_TAG,
        "Scan with a fixed ImageTag: an image that fails the gate would already have taken the tag the stack's resources pull",
    ),
    error(
        ids::INDEX_IN_LAMBDA,
        "a Lambda function given a multi-platform image's index (ImageUri): Lambda runs one platform's manifest, ImageUri.arm64 or ImageUri.amd64",
    ),
    error(
        ids::PLATFORM_URI_MISMATCH,
        "a Lambda function given ImageUri.<arch> of a multi-platform image that is not its architecture, or a platform the image does not build",
    ),
    error(
        ids::MULTI_PLATFORM_NAMED_REPOSITORY,
        "a multi-platform image with Repository.RepositoryName or ExistingRepositoryName (its index is written only into the repository the template generates)",
    ),
    error(
        ids::MULTI_PLATFORM_FIXED_TAG,
        "a multi-platform image with a fixed ImageTag (platforms and index are tagged by content)",
    ),
    error(
        ids::FIXED_TAG_WITH_REPLICAS,
        "a fixed ImageTag with ReplicaRegions (replica repositories keep immutable tags, so the second build could not move the tag there)",
    ),
    warning(
        ids::DELETE_WITHOUT_EMPTY,
        "DeletionPolicy: Delete on an image whose repository is not emptied on delete (the stack's delete fails once the repository holds images)",
    ),
    warning(
        ids::VPC_CROSS_REGION,
        "a build in a VPC with ReplicaRegions (the replica wait calls ECR in other regions, which no interface endpoint serves: subnets need a NAT gateway)",
    ),
    warning(
        ids::ENVIRONMENT_NOT_IN_REGION,
        "an arm64 image, or BUILD_GENERAL1_2XLARGE on x86_64, in a region where CodeBuild does not document that environment (the project would fail to create)",
    ),
    error(
        ids::PULL_OTHER_PARTITION,
        "a repository in PullFromRepositories outside the stack's partition (a build cannot pull across partitions)",
    ),
];

/// Runs every check on an expansion and returns the findings in a stable order.
pub fn run(context: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(build_args::check(context));
    findings.extend(env_values::check(context));
    findings.extend(tags::check(context));
    findings.extend(logs::check(context));
    findings.extend(regions::check(context));
    findings.extend(replication_limits::check(context));
    findings.extend(timeout::check(context));
    findings.extend(retained_names::check(context));
    findings.extend(lambda::check(context));
    findings.extend(template_limits::check(context));
    findings.extend(policy_size::check(context));
    findings.extend(cycles::check(context));
    findings.extend(scan_on_push::check(context));
    findings.extend(scan_fixed_tag::check(context));
    findings.extend(lambda_index::check(context));
    findings.extend(lambda_platform_uri::check(context));
    findings.extend(multi_platform_repository::check(context));
    findings.extend(multi_platform_fixed_tag::check(context));
    findings.extend(fixed_tag_replicas::check(context));
    findings.extend(delete_without_empty::check(context));
    findings.extend(vpc_cross_region::check(context));
    findings.extend(codebuild_regions::check(context));
    findings.extend(pull_partition::check(context));
    findings
}

/// The catalog as a Markdown table (for the README).
pub fn catalog_markdown() -> String {
    let mut out = String::from("| id | level | catches |\n|---|---|---|\n");
    for info in CATALOG {
        let level = match info.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&format!("| {} | {level} | {} |\n", info.id, info.summary));
    }
    out
}
