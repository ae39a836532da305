//! The validated, typed description of one `Custom::ContainerImageBuild` resource.
//!
//! Parsed once, up front: shape-deciding properties are resolved, the properties are
//! validated against the schema, and the result is a typed [`ImageSpec`] that the
//! generators turn into resources. Values that CloudFormation resolves at deploy time
//! (bucket names, build-arg values, ...) stay as JSON values, intrinsics included.

pub(crate) mod resolve;

use serde_json::{Map, Value};

use crate::checks::ids;
use crate::finding::Finding;
use crate::options::{Caller, ExpandOptions};
use crate::params::ParameterValues;
use crate::path::TemplatePath;
use crate::platform::Platform;
use crate::schema;

/// The resource type this engine expands.
pub const RESOURCE_TYPE: &str = "Custom::ContainerImageBuild";

/// Default build timeout, in minutes.
pub const DEFAULT_TIMEOUT_MINUTES: u32 = 40;

/// Where the build context comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A zip of the context in S3.
    S3 {
        /// Bucket name (may be an intrinsic).
        bucket: Value,
        /// Object key (may be an intrinsic).
        key: Value,
        /// Object version, if pinned.
        version: Option<Value>,
    },
    /// An inline Dockerfile with no context.
    Inline {
        /// The Dockerfile text (may be an intrinsic).
        dockerfile: Value,
    },
    /// A local directory; only `cib package` accepts it.
    Directory(Value),
    /// A ready image tarball: pushed by the provider, no build.
    ImageTarball(TarballSource),
}

/// Where an image tarball is.
#[derive(Debug, Clone, PartialEq)]
pub enum TarballSource {
    /// A local path; only `cib package` accepts it (it uploads it and rewrites it to S3).
    Local(Value),
    /// An object in S3.
    S3 {
        /// Bucket name (may be an intrinsic).
        bucket: Value,
        /// Object key (may be an intrinsic).
        key: Value,
        /// Object version, if pinned.
        version: Option<Value>,
    },
}

/// The repository the image goes to.
#[allow(clippy::large_enum_variant)] // built once per image; boxing buys nothing
#[derive(Debug, Clone, PartialEq)]
pub enum RepositorySpec {
    /// A repository this template creates.
    Owned {
        /// Explicit name; `None` lets CloudFormation name it.
        name: Option<Value>,
        /// Scan images on push.
        scan_on_push: Value,
        /// KMS key ARN for encryption; `None` means AES256.
        kms_key_arn: Option<Value>,
        /// Delete images with the repository.
        empty_on_delete: Value,
    },
    /// A repository that exists outside this template.
    Existing {
        /// Its name.
        name: Value,
    },
}

/// Build log settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BuildLogs {
    /// Log group name; default: one per template.
    pub group_name: Option<Value>,
    /// Retention; a value other than the template group's gives the image a log group
    /// of its own.
    pub retention_in_days: Option<i64>,
    /// KMS key (ARN) that encrypts the image's own log group (may be an intrinsic).
    pub kms_key_id: Option<Value>,
}

/// The vulnerability gate (`Scan`).
#[derive(Debug, Clone, PartialEq)]
pub struct ScanSpec {
    /// `FailOnSeverity`: `CRITICAL`, `HIGH`, `MEDIUM` or `LOW` (may be an intrinsic).
    pub fail_on_severity: Value,
    /// `IgnoreFindings`: a list of finding names, or an intrinsic giving one.
    pub ignore_findings: Option<Value>,
}

/// What decides the CodeBuild project an image runs on: images with equal
/// environments share one project.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildEnvironment {
    /// Native platform.
    pub platform: Platform,
    /// CodeBuild compute type.
    pub compute_type: String,
    /// VPC configuration, as written.
    pub vpc_config: Option<Value>,
    /// Build on CodeBuild's Docker server.
    pub docker_server: bool,
}

/// One image, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSpec {
    /// The user's logical ID.
    pub logical_id: String,
    /// Build context.
    pub source: Source,
    /// Dockerfile path inside the context.
    pub dockerfile: Option<Value>,
    /// Build stage.
    pub target: Option<Value>,
    /// Build arguments, name to value, in template order.
    pub build_args: Vec<(String, Value)>,
    /// Build secrets, id to secret ARN, in template order.
    pub build_secrets: Vec<(String, Value)>,
    /// Fixed tag.
    pub image_tag: Option<Value>,
    /// Prefix before the content hash.
    pub image_tag_prefix: Option<Value>,
    /// Target repository.
    pub repository: RepositorySpec,
    /// Replica regions, resolved.
    pub replica_regions: Vec<String>,
    /// The user's install-phase commands.
    pub install_commands: Vec<String>,
    /// The user's pre-build commands.
    pub pre_build_commands: Vec<String>,
    /// Registry login secret.
    pub docker_login_secret_arn: Option<Value>,
    /// Pull-through cache prefixes.
    pub pull_through_cache_prefixes: Vec<Value>,
    /// `PullFromRepositories`: ECR repository ARNs the build pulls base images from.
    pub pull_from_repositories: Vec<String>,
    /// Build without the registry cache.
    pub cache_disabled: Option<Value>,
    /// Layer compression (`gzip` when absent).
    pub compression: Option<Value>,
    /// Build logs.
    pub build_logs: BuildLogs,
    /// The build environment, which picks the shared project.
    pub environment: BuildEnvironment,
    /// Whether `Platform` was written (a tarball's platform is its own unless stated).
    pub platform_declared: bool,
    /// Build timeout in minutes.
    pub timeout_minutes: u32,
    /// The vulnerability gate, when asked for.
    pub scan: Option<ScanSpec>,
    /// Resource attributes carried over from the user's resource.
    pub attributes: ResourceAttributes,
}

/// Resource-level attributes of the user's resource that carry over.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResourceAttributes {
    /// `Condition`.
    pub condition: Option<Value>,
    /// `DependsOn`.
    pub depends_on: Option<Value>,
    /// `DeletionPolicy`.
    pub deletion_policy: Option<Value>,
    /// `UpdateReplacePolicy`.
    pub update_replace_policy: Option<Value>,
    /// `Metadata`.
    pub metadata: Option<Value>,
}

impl ImageSpec {
    /// The image's platform.
    pub fn platform(&self) -> Platform {
        self.environment.platform
    }

    /// The compression when it is known at expansion time.
    pub fn compression_literal(&self) -> Option<&str> {
        match &self.compression {
            None => Some("gzip"),
            Some(value) => value.as_str(),
        }
    }

    /// True when the image is a ready tarball: no build, no project.
    pub fn is_tarball(&self) -> bool {
        matches!(self.source, Source::ImageTarball(_))
    }

    /// The condition name, if the image is conditional.
    pub fn condition_name(&self) -> Option<&str> {
        self.attributes.condition.as_ref().and_then(Value::as_str)
    }
}

/// Parses and validates the resource `logical_id` of the template.
pub fn parse_image(
    logical_id: &str,
    resource: &Value,
    parameters: &ParameterValues<'_>,
    options: &ExpandOptions,
) -> Result<ImageSpec, Vec<Finding>> {
    let path = TemplatePath::resource(logical_id);
    let empty = Value::Object(Map::new());
    let properties = resource.get("Properties").unwrap_or(&empty);
    let Value::Object(properties) = properties else {
        return Err(vec![Finding::error(
            ids::SCHEMA,
            Some(logical_id),
            path.key("Properties"),
            "Properties must be a mapping",
            "write the properties as a mapping of name to value",
        )]);
    };
    let mut properties = properties.clone();
    let mut findings = resolve::resolve_shape(logical_id, &mut properties, parameters);
    if !findings.is_empty() {
        return Err(findings);
    }
    let properties = Value::Object(properties);
    findings.extend(schema::validate(logical_id, &properties));
    if !findings.is_empty() {
        return Err(findings);
    }
    let spec = build(logical_id, resource, &properties);
    let mut errors = Vec::new();
    if let Source::Directory(_) = spec.source {
        let fix = match options.caller {
            Caller::Macro => {
                "run `cib package` (or `cib deploy`) first: it uploads the directory and rewrites it to S3Bucket/S3Key"
            }
            Caller::Cli => {
                "run `cib package` first: it uploads the directory and rewrites it to S3Bucket/S3Key"
            }
        };
        errors.push(Finding::error(
            ids::DIRECTORY_SOURCE,
            Some(logical_id),
            TemplatePath::properties_of(logical_id)
                .key("Source")
                .key("Directory"),
            "a local Directory source must be packaged before it can be deployed",
            fix,
        ));
    }
    if spec.is_tarball() {
        errors.extend(crate::checks::tarball::check_spec(
            logical_id,
            &properties,
            &spec,
            options.caller,
        ));
    }
    if errors.is_empty() {
        Ok(spec)
    } else {
        Err(errors)
    }
}

fn build(logical_id: &str, resource: &Value, properties: &Value) -> ImageSpec {
    let get = |key: &str| properties.get(key).cloned();
    let source = properties
        .get("Source")
        .map_or(Source::Directory(Value::Null), |source| {
            match (
                source.get("Dockerfile"),
                source.get("Directory"),
                source.get("ImageTarball"),
            ) {
                (Some(text), _, _) => Source::Inline {
                    dockerfile: text.clone(),
                },
                (None, Some(dir), _) => Source::Directory(dir.clone()),
                (None, None, Some(tarball)) => Source::ImageTarball(match tarball {
                    Value::Object(s3) => TarballSource::S3 {
                        bucket: s3.get("S3Bucket").cloned().unwrap_or(Value::Null),
                        key: s3.get("S3Key").cloned().unwrap_or(Value::Null),
                        version: s3.get("S3ObjectVersion").cloned(),
                    },
                    path => TarballSource::Local(path.clone()),
                }),
                (None, None, None) => Source::S3 {
                    bucket: source.get("S3Bucket").cloned().unwrap_or(Value::Null),
                    key: source.get("S3Key").cloned().unwrap_or(Value::Null),
                    version: source.get("S3ObjectVersion").cloned(),
                },
            }
        });
    let repository = match properties.get("Repository") {
        Some(repo) => match repo.get("ExistingRepositoryName") {
            Some(name) => RepositorySpec::Existing { name: name.clone() },
            None => RepositorySpec::Owned {
                name: repo.get("RepositoryName").cloned(),
                scan_on_push: repo
                    .get("ImageScanOnPush")
                    .cloned()
                    .unwrap_or(Value::Bool(true)),
                kms_key_arn: repo.get("KmsKeyArn").cloned(),
                empty_on_delete: repo
                    .get("EmptyOnDelete")
                    .cloned()
                    .unwrap_or(Value::Bool(false)),
            },
        },
        None => RepositorySpec::Owned {
            name: None,
            scan_on_push: Value::Bool(true),
            kms_key_arn: None,
            empty_on_delete: Value::Bool(false),
        },
    };
    // A list of one platform is that platform (a longer list is split before parsing).
    let platform = properties
        .get("Platform")
        .and_then(|value| match value {
            Value::Array(items) if items.len() == 1 => items[0].as_str(),
            other => other.as_str(),
        })
        .and_then(Platform::parse)
        .unwrap_or_default();
    let compute_type = properties
        .get("ComputeType")
        .and_then(Value::as_str)
        .map_or_else(|| platform.default_compute_type().to_owned(), str::to_owned);
    let strings = |key: &str| -> Vec<String> {
        properties
            .get(key)
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let pairs = |key: &str| -> Vec<(String, Value)> {
        properties
            .get(key)
            .and_then(Value::as_object)
            .map(|map| map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    };
    let build_logs = properties
        .get("BuildLogs")
        .map(|logs| BuildLogs {
            group_name: logs.get("LogGroupName").cloned(),
            retention_in_days: logs.get("RetentionInDays").and_then(Value::as_i64),
            kms_key_id: logs.get("KmsKeyId").cloned(),
        })
        .unwrap_or_default();
    let attribute = |key: &str| resource.get(key).cloned();
    ImageSpec {
        logical_id: logical_id.to_owned(),
        source,
        dockerfile: get("Dockerfile"),
        target: get("Target"),
        build_args: pairs("BuildArgs"),
        build_secrets: pairs("BuildSecrets"),
        image_tag: get("ImageTag"),
        image_tag_prefix: get("ImageTagPrefix"),
        repository,
        replica_regions: strings("ReplicaRegions"),
        install_commands: strings("InstallCommands"),
        pre_build_commands: strings("PreBuildCommands"),
        docker_login_secret_arn: get("DockerLoginSecretArn"),
        pull_from_repositories: strings("PullFromRepositories"),
        pull_through_cache_prefixes: properties
            .get("PullThroughCachePrefixes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        cache_disabled: get("CacheDisabled"),
        compression: get("Compression"),
        build_logs,
        environment: BuildEnvironment {
            platform,
            compute_type,
            vpc_config: get("VpcConfig"),
            docker_server: properties
                .get("DockerServer")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        },
        platform_declared: properties.get("Platform").is_some(),
        timeout_minutes: properties
            .get("TimeoutInMinutes")
            .and_then(Value::as_u64)
            .and_then(|m| u32::try_from(m).ok())
            .unwrap_or(DEFAULT_TIMEOUT_MINUTES),
        scan: properties.get("Scan").map(|scan| ScanSpec {
            fail_on_severity: scan.get("FailOnSeverity").cloned().unwrap_or(Value::Null),
            ignore_findings: scan.get("IgnoreFindings").cloned(),
        }),
        attributes: ResourceAttributes {
            condition: attribute("Condition"),
            depends_on: attribute("DependsOn"),
            deletion_policy: attribute("DeletionPolicy"),
            update_replace_policy: attribute("UpdateReplacePolicy"),
            metadata: attribute("Metadata"),
        },
    }
}
