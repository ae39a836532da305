//! The trigger: the user's resource, kept under its logical ID, carrying what the
//! provider needs to start the build (see docs/expansion.md).

use serde_json::{Map, Value, json};

use super::attributes::depends_on;
use super::buildspec;
use super::cache;
use super::ids;
use super::log_group;
use super::repository;
use crate::spec::{ImageSpec, Source, TarballSource};

/// Version of the trigger's property contract with the provider.
pub const CONTRACT_VERSION: &str = cib_contract::CONTRACT_VERSION;

/// Minutes the build waits for the image to reach its replica regions.
pub const REPLICA_WAIT_MINUTES: u32 = 15;

/// Minutes the build waits for ECR's scan of the image when it has `Scan` (the
/// vulnerability gate); basic scans usually complete within a few minutes of the push.
pub const SCAN_WAIT_MINUTES: u32 = 10;

/// Minutes allowed for queueing and provisioning the build.
pub const START_MARGIN_MINUTES: u32 = 5;

/// CloudFormation's upper bound for a custom resource's `ServiceTimeout`, in seconds.
pub const MAX_SERVICE_TIMEOUT_SECONDS: u32 = 3600;

/// The `ServiceTimeout`, in seconds, of a tarball image: the provider answers within one
/// Lambda invocation (at most 15 minutes), plus the start margin.
pub const TARBALL_SERVICE_TIMEOUT_SECONDS: u32 = (15 + START_MARGIN_MINUTES) * 60;

/// Minutes the image's build spends waiting after the push: for its replicas and for the
/// vulnerability gate's scan.
pub fn wait_minutes(image: &ImageSpec) -> u32 {
    let replicas = if image.replica_regions.is_empty() {
        0
    } else {
        REPLICA_WAIT_MINUTES
    };
    let scan = if image.scan.is_some() {
        SCAN_WAIT_MINUTES
    } else {
        0
    };
    replicas + scan
}

/// The `ServiceTimeout`, in seconds, that the image's build, replica wait and scan wait
/// need.
pub fn service_timeout_seconds(image: &ImageSpec) -> u32 {
    if image.is_tarball() {
        return TARBALL_SERVICE_TIMEOUT_SECONDS;
    }
    (image.timeout_minutes + wait_minutes(image) + START_MARGIN_MINUTES) * 60
}

/// The trigger resource for `image`, built on project `project_id`.
pub fn resource(
    image: &ImageSpec,
    project_id: &str,
    service_token: &Value,
    original: &Map<String, Value>,
) -> Map<String, Value> {
    if image.is_tarball() {
        return tarball_resource(image, service_token, original);
    }
    let repo = repository::refs(image);
    let mut p = Map::new();
    p.insert("ServiceToken".into(), service_token.clone());
    let timeout = service_timeout_seconds(image).min(MAX_SERVICE_TIMEOUT_SECONDS);
    p.insert("ServiceTimeout".into(), json!(timeout.to_string()));
    p.insert("ContractVersion".into(), json!(CONTRACT_VERSION));
    p.insert("ProjectName".into(), json!({"Ref": project_id}));
    p.insert("RepositoryName".into(), repo.name);
    p.insert("RepositoryUri".into(), repo.uri);
    p.insert("RepositoryArn".into(), repo.arn);
    let source = match &image.source {
        Source::S3 {
            bucket,
            key,
            version,
        } => s3_location(bucket, key, version),
        Source::Inline { dockerfile } => json!({"Dockerfile": dockerfile}),
        Source::Directory(dir) => json!({"Directory": dir}),
        Source::ImageTarball(tarball) => json!({"ImageTarball": tarball_source(tarball)}),
    };
    p.insert("Source".into(), source);
    p.insert(
        "Dockerfile".into(),
        image
            .dockerfile
            .clone()
            .unwrap_or_else(|| json!("Dockerfile")),
    );
    optional(&mut p, "Target", &image.target);
    if !image.build_args.is_empty() {
        p.insert(
            "BuildArgs".into(),
            Value::Object(image.build_args.iter().cloned().collect()),
        );
    }
    if !image.build_secrets.is_empty() {
        p.insert(
            "BuildSecrets".into(),
            Value::Object(image.build_secrets.iter().cloned().collect()),
        );
    }
    p.insert("Platform".into(), image.platform().to_value());
    optional(&mut p, "ImageTag", &image.image_tag);
    optional(&mut p, "ImageTagPrefix", &image.image_tag_prefix);
    p.insert(
        "Compression".into(),
        image.compression.clone().unwrap_or_else(|| json!("gzip")),
    );
    p.insert(
        "CacheDisabled".into(),
        match &image.cache_disabled {
            Some(Value::Bool(b)) => json!(b.to_string()),
            Some(other) => other.clone(),
            None => json!("false"),
        },
    );
    if let Some(reference) = cache::image_ref(image) {
        p.insert("CacheImageRef".into(), reference);
    }
    if !image.install_commands.is_empty() {
        p.insert("InstallCommands".into(), json!(image.install_commands));
    }
    if !image.pre_build_commands.is_empty() {
        p.insert("PreBuildCommands".into(), json!(image.pre_build_commands));
    }
    optional(
        &mut p,
        "DockerLoginSecretArn",
        &image.docker_login_secret_arn,
    );
    if let Some(group) = log_group::group_name(image) {
        p.insert("LogGroupName".into(), group);
    }
    p.insert("ReplicaRegions".into(), json!(image.replica_regions));
    if !image.replica_regions.is_empty() {
        p.insert(
            "ReplicaWaitMinutes".into(),
            json!(REPLICA_WAIT_MINUTES.to_string()),
        );
    }
    if let Some(scan) = &image.scan {
        let mut gate = Map::new();
        gate.insert("FailOnSeverity".into(), scan.fail_on_severity.clone());
        if let Some(ignore) = &scan.ignore_findings {
            gate.insert("IgnoreFindings".into(), ignore.clone());
        }
        p.insert("Scan".into(), Value::Object(gate));
        p.insert(
            "ScanWaitMinutes".into(),
            json!(SCAN_WAIT_MINUTES.to_string()),
        );
    }
    p.insert(
        "TimeoutInMinutes".into(),
        json!(image.timeout_minutes.to_string()),
    );
    p.insert("BuildSpec".into(), json!(buildspec::text(image)));
    finish(image, original, p)
}

/// The trigger of a tarball image: the repository, the S3 location, the tag settings and
/// the replicas; no project, no buildspec, nothing a build reads.
fn tarball_resource(
    image: &ImageSpec,
    service_token: &Value,
    original: &Map<String, Value>,
) -> Map<String, Value> {
    let repo = repository::refs(image);
    let mut p = Map::new();
    p.insert("ServiceToken".into(), service_token.clone());
    p.insert(
        "ServiceTimeout".into(),
        json!(service_timeout_seconds(image).to_string()),
    );
    p.insert("ContractVersion".into(), json!(CONTRACT_VERSION));
    p.insert("RepositoryName".into(), repo.name);
    p.insert("RepositoryUri".into(), repo.uri);
    p.insert("RepositoryArn".into(), repo.arn);
    if let Source::ImageTarball(tarball) = &image.source {
        p.insert(
            "Source".into(),
            json!({"ImageTarball": tarball_source(tarball)}),
        );
    }
    if image.platform_declared {
        p.insert("Platform".into(), image.platform().to_value());
    }
    optional(&mut p, "ImageTag", &image.image_tag);
    optional(&mut p, "ImageTagPrefix", &image.image_tag_prefix);
    p.insert("ReplicaRegions".into(), json!(image.replica_regions));
    if !image.replica_regions.is_empty() {
        p.insert(
            "ReplicaWaitMinutes".into(),
            json!(REPLICA_WAIT_MINUTES.to_string()),
        );
    }
    finish(image, original, p)
}

/// The trigger's `Source.ImageTarball`: the S3 form (a local path is refused before).
fn tarball_source(tarball: &TarballSource) -> Value {
    match tarball {
        TarballSource::S3 {
            bucket,
            key,
            version,
        } => s3_location(bucket, key, version),
        TarballSource::Local(path) => path.clone(),
    }
}

/// The resource around the trigger's properties `p`: the user's attributes carried over,
/// and the replication resource waited for when the image has replicas.
fn finish(
    image: &ImageSpec,
    original: &Map<String, Value>,
    p: Map<String, Value>,
) -> Map<String, Value> {
    let extra: &[&str] = if image.replica_regions.is_empty() {
        &[]
    } else {
        &[ids::REPLICATION]
    };
    resource_around(image, original, p, extra)
}

/// A `Custom::ContainerImageBuild` resource with properties `p`, the user's `Condition`,
/// `DeletionPolicy`, `UpdateReplacePolicy` and `Metadata` carried over from `original`, and
/// the user's `DependsOn` plus `extra`.
pub(super) fn resource_around(
    image: &ImageSpec,
    original: &Map<String, Value>,
    p: Map<String, Value>,
    extra: &[&str],
) -> Map<String, Value> {
    let mut resource = Map::new();
    resource.insert("Type".into(), json!(crate::spec::RESOURCE_TYPE));
    for key in [
        "Condition",
        "DeletionPolicy",
        "UpdateReplacePolicy",
        "Metadata",
    ] {
        if let Some(value) = original.get(key) {
            resource.insert(key.into(), value.clone());
        }
    }
    if let Some(list) = depends_on(image, extra) {
        resource.insert("DependsOn".into(), list);
    }
    resource.insert("Properties".into(), Value::Object(p));
    resource
}

/// An S3 object's location as a trigger property: `{S3Bucket, S3Key, S3ObjectVersion?}`.
fn s3_location(bucket: &Value, key: &Value, version: &Option<Value>) -> Value {
    let mut s = Map::new();
    s.insert("S3Bucket".into(), bucket.clone());
    s.insert("S3Key".into(), key.clone());
    if let Some(version) = version {
        s.insert("S3ObjectVersion".into(), version.clone());
    }
    Value::Object(s)
}

fn optional(properties: &mut Map<String, Value>, key: &str, value: &Option<Value>) {
    if let Some(value) = value {
        properties.insert(key.into(), value.clone());
    }
}
