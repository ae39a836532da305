//! Stable check ids. Each id names one kind of problem and never changes meaning.

/// The template could not be parsed (YAML or JSON syntax, encoding, limits).
pub const PARSE: &str = "CIB001";
/// The template's structure is not a CloudFormation template.
pub const STRUCTURE: &str = "CIB002";
/// A property does not match the schema.
pub const SCHEMA: &str = "CIB010";
/// A build argument name is not a valid identifier.
pub const BUILD_ARG_NAME: &str = "CIB011";
/// A build argument name collides with the build's own environment.
pub const BUILD_ARG_RESERVED: &str = "CIB012";
/// A local `Directory` source reached a step that cannot upload it.
pub const DIRECTORY_SOURCE: &str = "CIB013";
/// A shape-deciding property cannot be resolved at expansion time.
pub const UNRESOLVABLE: &str = "CIB014";
/// A generated logical ID collides with one in the template.
pub const ID_COLLISION: &str = "CIB015";
/// `Source` does not have exactly one form.
pub const SOURCE_FORM: &str = "CIB016";
/// `ImageTag` and `ImageTagPrefix` are both set.
pub const TAG_AND_PREFIX: &str = "CIB017";
/// `BuildLogs.LogGroupName` with `RetentionInDays` or `KmsKeyId` (settings of a log group
/// the template creates, which CloudFormation names).
pub const NAMED_LOG_GROUP_WITH_SETTINGS: &str = "CIB018";
/// More than 10 replication rules (distinct destination sets).
pub const TOO_MANY_RULES: &str = "CIB020";
/// More than 25 distinct replication destinations.
pub const TOO_MANY_DESTINATIONS: &str = "CIB021";
/// More than 100 repository filters in one replication rule.
pub const TOO_MANY_FILTERS: &str = "CIB022";
/// A replica region in another partition than the stack.
pub const CROSS_PARTITION: &str = "CIB023";
/// A replica region equal to the stack's region.
pub const REPLICA_IS_STACK_REGION: &str = "CIB024";
/// A malformed region name.
pub const MALFORMED_REGION: &str = "CIB025";
/// The same replica region listed twice for one image.
pub const DUPLICATE_REPLICA: &str = "CIB026";
/// The stack's region is unknown, so partition checks are partial.
pub const REGION_UNKNOWN: &str = "CIB027";
/// A well-formed region name that no partition lists (yet).
pub const UNKNOWN_REGION: &str = "CIB028";
/// An image whose platform does not match the Lambda function's architecture.
pub const ARCHITECTURE_MISMATCH: &str = "CIB030";
/// A zstd-compressed image used by Lambda.
pub const ZSTD_IN_LAMBDA: &str = "CIB031";
/// A fixed, mutable tag consumed by Lambda.
pub const MUTABLE_TAG_IN_LAMBDA: &str = "CIB032";
/// More than 500 resources after expansion.
pub const TOO_MANY_RESOURCES: &str = "CIB040";
/// More than 1 MB after expansion.
pub const TEMPLATE_TOO_LARGE: &str = "CIB041";
/// More than 51,200 bytes after expansion: must be deployed from S3.
pub const TEMPLATE_NEEDS_S3: &str = "CIB042";
/// Build timeout plus replica wait does not fit in the custom resource timeout.
pub const TIMEOUT_TOO_LONG: &str = "CIB043";
/// A literal value that cannot fit in one CodeBuild environment variable.
pub const ENV_VALUE_TOO_LONG: &str = "CIB044";
/// A repository with a fixed name that the stack retains on delete.
pub const RETAINED_NAMED_REPOSITORY: &str = "CIB045";
/// The build role's inline policy can exceed IAM's 10,240 characters per role.
pub const ROLE_POLICY_TOO_LARGE: &str = "CIB053";
/// A YAML tag cib does not know (another pre-processor's), kept as it is.
pub const UNKNOWN_TAG_KEPT: &str = "CIB060";
/// A YAML tag cib does not know inside a `Custom::ContainerImageBuild` resource.
pub const UNKNOWN_TAG_IN_IMAGE: &str = "CIB061";
/// A dependency cycle through an image.
pub const DEPENDENCY_CYCLE: &str = "CIB062";
/// An `Fn::ForEach` loop that declares an image and cannot be expanded.
pub const LOOP_NOT_EXPANDABLE: &str = "CIB063";
/// A property that only a build uses, on an image whose source is a ready tarball.
pub const TARBALL_BUILD_PROPERTY: &str = "CIB070";
/// A local `Source.ImageTarball` path reached a step that cannot upload it.
pub const TARBALL_NOT_PACKAGED: &str = "CIB071";
/// A tarball image pushed into a repository the provider may not write (a named or
/// existing repository).
pub const TARBALL_REPOSITORY: &str = "CIB072";
/// `Scan` on a repository with `ImageScanOnPush: false`.
pub const SCAN_WITHOUT_SCAN_ON_PUSH: &str = "CIB080";
/// `Scan` with a fixed `ImageTag`.
pub const SCAN_WITH_FIXED_TAG: &str = "CIB081";
/// A Lambda function given a multi-platform image's index.
pub const INDEX_IN_LAMBDA: &str = "CIB082";
/// A Lambda function given a platform of a multi-platform image that is not its
/// architecture, or that the image does not build.
pub const PLATFORM_URI_MISMATCH: &str = "CIB083";
/// A multi-platform image with a repository the template does not generate.
pub const MULTI_PLATFORM_NAMED_REPOSITORY: &str = "CIB084";
/// A multi-platform image with a fixed `ImageTag`.
pub const MULTI_PLATFORM_FIXED_TAG: &str = "CIB085";
/// A fixed `ImageTag` with `ReplicaRegions`.
pub const FIXED_TAG_WITH_REPLICAS: &str = "CIB086";
/// `DeletionPolicy: Delete` on an image whose generated repository is not emptied.
pub const DELETE_WITHOUT_EMPTY: &str = "CIB087";
/// A build in a VPC that must reach ECR in other regions (replica regions).
pub const VPC_CROSS_REGION: &str = "CIB088";
/// A build environment (arm64, or 2XLARGE on x86_64) CodeBuild does not document in the
/// stack's region.
pub const ENVIRONMENT_NOT_IN_REGION: &str = "CIB089";
/// A repository in `PullFromRepositories` outside the stack's partition.
pub const PULL_OTHER_PARTITION: &str = "CIB090";
