//! Typed views of the resolved resource properties (the contract in docs/expansion.md).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::PropertyError;

/// Where the build context comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A zip of the context in S3.
    S3 {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
        /// Object version, when pinned.
        version: Option<String>,
    },
    /// An inline Dockerfile, no context.
    Inline {
        /// The Dockerfile text.
        dockerfile: String,
    },
    /// A ready image tarball in S3, pushed as it is (no build).
    ImageTarball {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
        /// Object version, when pinned.
        version: Option<String>,
    },
}

/// Severities the vulnerability gate can fail on, lowest first.
pub const SEVERITIES: &[&str] = &["LOW", "MEDIUM", "HIGH", "CRITICAL"];

/// Minutes the build may spend waiting for the image's scan when the trigger does not say
/// (`ScanWaitMinutes`); equal to the engine's `SCAN_WAIT_MINUTES`.
pub const DEFAULT_SCAN_WAIT_MINUTES: u32 = 10;

/// The vulnerability gate (`Scan`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanGate {
    /// The lowest severity that fails the deploy (one of [`SEVERITIES`]).
    pub fail_on_severity: String,
    /// Finding names that never fail it.
    pub ignore_findings: Vec<String>,
    /// How long the build waits for the scan to complete.
    pub wait_minutes: u32,
}

/// Minutes the build may spend waiting for replicas when the trigger does not say
/// (`ReplicaWaitMinutes`); equal to the engine's `REPLICA_WAIT_MINUTES`.
pub const DEFAULT_REPLICA_WAIT_MINUTES: u32 = 15;

/// The trigger resource's properties, resolved by CloudFormation.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerProperties {
    /// The shared CodeBuild project.
    pub project_name: String,
    /// Repository name.
    pub repository_name: String,
    /// Repository URI (`<registry>/<name>`).
    pub repository_uri: String,
    /// Repository ARN.
    pub repository_arn: String,
    /// The build context.
    pub source: Source,
    /// Dockerfile path inside the context.
    pub dockerfile: String,
    /// Build stage.
    pub target: Option<String>,
    /// Build arguments, by name.
    pub build_args: BTreeMap<String, String>,
    /// Build secrets: id to Secrets Manager ARN.
    pub build_secrets: BTreeMap<String, String>,
    /// `linux/amd64` or `linux/arm64`.
    pub platform: String,
    /// A fixed tag.
    pub image_tag: Option<String>,
    /// A prefix before the content hash.
    pub image_tag_prefix: Option<String>,
    /// `gzip` or `zstd`.
    pub compression: String,
    /// Whether the registry cache is off.
    pub cache_disabled: bool,
    /// The user's install commands (already in the buildspec; hashed into the tag).
    pub install_commands: Vec<String>,
    /// The user's pre-build commands (already in the buildspec; hashed into the tag).
    pub pre_build_commands: Vec<String>,
    /// Secret holding registry credentials.
    pub docker_login_secret_arn: Option<String>,
    /// Replica regions.
    pub replica_regions: Vec<String>,
    /// The buildspec text.
    pub build_spec: String,
    /// The build's own timeout.
    pub timeout_minutes: u32,
    /// The log group for the build's logs, if not the project's.
    pub log_group_name: Option<String>,
    /// How long the build waits for its replicas.
    pub replica_wait_minutes: u32,
    /// The registry-cache reference (`<cache repository uri>:<logical id>`), absent when the
    /// cache is off or the build uses a Docker server.
    pub cache_image_ref: Option<String>,
    /// `ContractVersion`: which version of the trigger contract wrote the properties.
    pub contract_version: Option<String>,
    /// The vulnerability gate, when the image has `Scan`.
    pub scan: Option<ScanGate>,
}

/// Names an environment variable of the build may not take, because the buildspec and
/// CodeBuild use them.
pub fn is_reserved_variable(name: &str) -> bool {
    cib_contract::is_reserved_build_arg(name)
}

/// A scalar as CloudFormation hands it to a custom resource: numbers and booleans as
/// strings; `None` for anything else.
pub fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A required string property.
pub fn required(props: &Map<String, Value>, path: &str) -> Result<String, PropertyError> {
    match props.get(path) {
        None => Err(PropertyError::new(path, "is required")),
        Some(v) => scalar(v)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| PropertyError::new(path, "must be a non-empty string")),
    }
}

/// An optional string property (an empty string counts as absent).
pub fn optional(props: &Map<String, Value>, path: &str) -> Result<Option<String>, PropertyError> {
    match props.get(path) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => scalar(v)
            .map(|s| Some(s).filter(|s| !s.is_empty()))
            .ok_or_else(|| PropertyError::new(path, "must be a string")),
    }
}

/// An optional list of strings.
pub fn string_list(props: &Map<String, Value>, path: &str) -> Result<Vec<String>, PropertyError> {
    match props.get(path) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                scalar(v)
                    .ok_or_else(|| PropertyError::new(format!("{path}[{i}]"), "must be a string"))
            })
            .collect(),
        Some(_) => Err(PropertyError::new(path, "must be a list of strings")),
    }
}

fn string_map(
    props: &Map<String, Value>,
    path: &str,
) -> Result<BTreeMap<String, String>, PropertyError> {
    match props.get(path) {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| {
                scalar(v)
                    .map(|s| (k.clone(), s))
                    .ok_or_else(|| PropertyError::new(format!("{path}.{k}"), "must be a string"))
            })
            .collect(),
        Some(_) => Err(PropertyError::new(path, "must be a map of strings")),
    }
}

fn minutes(
    props: &Map<String, Value>,
    path: &str,
    default: Option<u32>,
) -> Result<u32, PropertyError> {
    match (optional(props, path)?, default) {
        (Some(s), _) => s.trim().parse::<u32>().map_err(|_| {
            PropertyError::new(path, format!("`{s}` is not a whole number of minutes"))
        }),
        (None, Some(d)) => Ok(d),
        (None, None) => Err(PropertyError::new(path, "is required")),
    }
}

fn source(props: &Map<String, Value>) -> Result<Source, PropertyError> {
    let Some(Value::Object(s)) = props.get("Source") else {
        return Err(PropertyError::new(
            "Source",
            "is required and must be an object",
        ));
    };
    if let Some(dockerfile) = optional(s, "Dockerfile")? {
        return Ok(Source::Inline { dockerfile });
    }
    if let Some(tarball) = s.get("ImageTarball") {
        let Value::Object(t) = tarball else {
            return Err(PropertyError::new(
                "Source.ImageTarball",
                "a local path must be packaged to S3 first (`cib package` or `cib deploy`)",
            ));
        };
        let under = |e: PropertyError| e.under("ImageTarball").under("Source");
        return Ok(Source::ImageTarball {
            bucket: required(t, "S3Bucket").map_err(under)?,
            key: required(t, "S3Key").map_err(under)?,
            version: optional(t, "S3ObjectVersion").map_err(under)?,
        });
    }
    if s.contains_key("Directory") {
        return Err(PropertyError::new(
            "Source.Directory",
            "a local directory must be packaged to S3 first (`cib package` or `cib deploy`)",
        ));
    }
    Ok(Source::S3 {
        bucket: required(s, "S3Bucket").map_err(|e| prefix("Source", e))?,
        key: required(s, "S3Key").map_err(|e| prefix("Source", e))?,
        version: optional(s, "S3ObjectVersion")?,
    })
}

/// Whether `name` may be a finding name of `Scan.IgnoreFindings`: what the schema allows
/// (`[A-Za-z0-9][A-Za-z0-9._:-]{0,38}`), so the names travel space-separated in one build
/// variable.
fn finding_name_ok(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() <= 39
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
}

fn scan(props: &Map<String, Value>) -> Result<Option<ScanGate>, PropertyError> {
    let gate = match props.get("Scan") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(gate)) => gate,
        Some(_) => {
            return Err(PropertyError::new(
                "Scan",
                "must be an object {FailOnSeverity, IgnoreFindings}",
            ));
        }
    };
    let severity = required(gate, "FailOnSeverity").map_err(|e| prefix("Scan", e))?;
    if !SEVERITIES.contains(&severity.as_str()) {
        return Err(PropertyError::new(
            "Scan.FailOnSeverity",
            format!("`{severity}` is not CRITICAL, HIGH, MEDIUM or LOW"),
        ));
    }
    let ignore_findings = string_list(gate, "IgnoreFindings").map_err(|e| prefix("Scan", e))?;
    if let Some((i, name)) = ignore_findings
        .iter()
        .enumerate()
        .find(|(_, name)| !finding_name_ok(name))
    {
        return Err(PropertyError::new(
            format!("Scan.IgnoreFindings[{i}]"),
            format!(
                "`{name}` is not a finding name ([A-Za-z0-9][A-Za-z0-9._:-], at most 39 characters)"
            ),
        ));
    }
    Ok(Some(ScanGate {
        fail_on_severity: severity,
        ignore_findings,
        wait_minutes: minutes(props, "ScanWaitMinutes", Some(DEFAULT_SCAN_WAIT_MINUTES))?,
    }))
}

fn prefix(parent: &str, e: PropertyError) -> PropertyError {
    e.under(parent)
}

impl TriggerProperties {
    /// Reads and checks the trigger's properties.
    pub fn parse(props: &Map<String, Value>) -> Result<TriggerProperties, PropertyError> {
        let build_args = string_map(props, "BuildArgs")?;
        for name in build_args.keys() {
            let valid = name
                .chars()
                .enumerate()
                .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
            if name.is_empty() || !valid {
                return Err(PropertyError::new(
                    format!("BuildArgs.{name}"),
                    "names must match [A-Za-z_][A-Za-z0-9_]*",
                ));
            }
            if is_reserved_variable(name) {
                return Err(PropertyError::new(
                    format!("BuildArgs.{name}"),
                    "the build owns this name (PATH, HOME, AWS_*, CODEBUILD_*, CIB_*, DOCKER_* and the like; the list is in cib-contract)",
                ));
            }
        }
        let source = source(props)?;
        if let Source::ImageTarball { .. } = source {
            return TriggerProperties::parse_tarball(props, source);
        }
        let platform = required(props, "Platform")?;
        if platform != "linux/amd64" && platform != "linux/arm64" {
            return Err(PropertyError::new(
                "Platform",
                "must be linux/amd64 or linux/arm64",
            ));
        }
        let cache_disabled = match optional(props, "CacheDisabled")?.as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(PropertyError::new(
                    "CacheDisabled",
                    format!("`{other}` is not true or false"),
                ));
            }
        };
        Ok(TriggerProperties {
            project_name: required(props, "ProjectName")?,
            repository_name: required(props, "RepositoryName")?,
            repository_uri: required(props, "RepositoryUri")?,
            repository_arn: required(props, "RepositoryArn")?,
            source,
            dockerfile: optional(props, "Dockerfile")?.unwrap_or_else(|| "Dockerfile".into()),
            target: optional(props, "Target")?,
            build_args,
            build_secrets: string_map(props, "BuildSecrets")?,
            platform,
            image_tag: optional(props, "ImageTag")?,
            image_tag_prefix: optional(props, "ImageTagPrefix")?,
            compression: optional(props, "Compression")?.unwrap_or_else(|| "gzip".into()),
            cache_disabled,
            install_commands: string_list(props, "InstallCommands")?,
            pre_build_commands: string_list(props, "PreBuildCommands")?,
            docker_login_secret_arn: optional(props, "DockerLoginSecretArn")?,
            replica_regions: string_list(props, "ReplicaRegions")?,
            build_spec: required(props, "BuildSpec")?,
            timeout_minutes: minutes(props, "TimeoutInMinutes", Some(60))?,
            log_group_name: optional(props, "LogGroupName")?,
            replica_wait_minutes: minutes(
                props,
                "ReplicaWaitMinutes",
                Some(DEFAULT_REPLICA_WAIT_MINUTES),
            )?,
            cache_image_ref: optional(props, "CacheImageRef")?,
            contract_version: optional(props, "ContractVersion")?,
            scan: scan(props)?,
        })
    }

    /// The properties of a tarball trigger: no project, no buildspec, no build settings;
    /// `platform` is empty unless the template states one (then the tarball must match it).
    fn parse_tarball(
        props: &Map<String, Value>,
        source: Source,
    ) -> Result<TriggerProperties, PropertyError> {
        let platform = optional(props, "Platform")?.unwrap_or_default();
        if !platform.is_empty() && platform != "linux/amd64" && platform != "linux/arm64" {
            return Err(PropertyError::new(
                "Platform",
                "must be linux/amd64 or linux/arm64",
            ));
        }
        Ok(TriggerProperties {
            scan: None,
            project_name: String::new(),
            repository_name: required(props, "RepositoryName")?,
            repository_uri: required(props, "RepositoryUri")?,
            repository_arn: required(props, "RepositoryArn")?,
            source,
            dockerfile: String::new(),
            target: None,
            build_args: BTreeMap::new(),
            build_secrets: BTreeMap::new(),
            platform,
            image_tag: optional(props, "ImageTag")?,
            image_tag_prefix: optional(props, "ImageTagPrefix")?,
            compression: String::new(),
            cache_disabled: true,
            install_commands: Vec::new(),
            pre_build_commands: Vec::new(),
            docker_login_secret_arn: None,
            replica_regions: string_list(props, "ReplicaRegions")?,
            build_spec: String::new(),
            timeout_minutes: 0,
            log_group_name: None,
            replica_wait_minutes: minutes(
                props,
                "ReplicaWaitMinutes",
                Some(DEFAULT_REPLICA_WAIT_MINUTES),
            )?,
            cache_image_ref: None,
            contract_version: optional(props, "ContractVersion")?,
        })
    }

    /// True for a tarball trigger (pushed by the provider, no build).
    pub fn is_tarball(&self) -> bool {
        matches!(self.source, Source::ImageTarball { .. })
    }

    /// The registry host: the repository URI before the first `/`.
    pub fn registry(&self) -> &str {
        self.repository_uri
            .split('/')
            .next()
            .unwrap_or(&self.repository_uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::sample;
    use serde_json::json;

    #[test]
    fn parses_the_contract() {
        let p = TriggerProperties::parse(&sample()).expect("parse");
        assert_eq!(p.registry(), "123456789012.dkr.ecr.us-east-1.amazonaws.com");
        assert_eq!(p.timeout_minutes, 30);
        assert_eq!(p.replica_wait_minutes, DEFAULT_REPLICA_WAIT_MINUTES);
        assert_eq!(
            crate::replica_repository_uri(&p.repository_uri, "us-east-1", "us-west-2"),
            "123456789012.dkr.ecr.us-west-2.amazonaws.com/api"
        );
    }

    #[test]
    fn a_reserved_build_arg_is_refused_with_its_path() {
        let mut m = sample();
        m.insert("BuildArgs".into(), json!({"CIB_RESPONSE_URL": "x"}));
        let e = TriggerProperties::parse(&m).expect_err("reserved");
        assert!(e.to_string().contains("BuildArgs.CIB_RESPONSE_URL"), "{e}");
    }

    #[test]
    fn the_vulnerability_gate_is_read_and_checked() {
        assert_eq!(
            TriggerProperties::parse(&sample()).expect("parse").scan,
            None
        );
        let mut m = sample();
        m.insert(
            "Scan".into(),
            json!({"FailOnSeverity": "HIGH", "IgnoreFindings": ["CVE-2024-1", "GHSA-abcd-efgh-ijkl"]}),
        );
        let gate = TriggerProperties::parse(&m)
            .expect("parse")
            .scan
            .expect("gate");
        assert_eq!(gate.fail_on_severity, "HIGH");
        assert_eq!(gate.ignore_findings, ["CVE-2024-1", "GHSA-abcd-efgh-ijkl"]);
        assert_eq!(gate.wait_minutes, DEFAULT_SCAN_WAIT_MINUTES);
        m.insert("ScanWaitMinutes".into(), json!("3"));
        let gate = TriggerProperties::parse(&m)
            .expect("parse")
            .scan
            .expect("gate");
        assert_eq!(gate.wait_minutes, 3);

        for (scan, path) in [
            (json!({"FailOnSeverity": "SEVERE"}), "Scan.FailOnSeverity"),
            (json!({"IgnoreFindings": []}), "Scan.FailOnSeverity"),
            (
                json!({"FailOnSeverity": "LOW", "IgnoreFindings": ["CVE-1 $(reboot)"]}),
                "Scan.IgnoreFindings[0]",
            ),
            (
                json!({"FailOnSeverity": "LOW", "IgnoreFindings": "CVE-1"}),
                "Scan.IgnoreFindings",
            ),
            (json!("HIGH"), "Scan"),
        ] {
            let mut m = sample();
            m.insert("Scan".into(), scan.clone());
            let e = TriggerProperties::parse(&m).expect_err("refused");
            assert!(
                e.to_string().starts_with(&format!("property {path}:")),
                "{scan}: {e}"
            );
        }
    }

    #[test]
    fn a_tarball_trigger_needs_no_build_properties() {
        let p = TriggerProperties::parse(&crate::fixtures::tarball_sample()).expect("parse");
        assert_eq!(
            p.source,
            Source::ImageTarball {
                bucket: "artifacts".into(),
                key: "tarballs/abc.tar".into(),
                version: None
            }
        );
        assert!(p.platform.is_empty() && p.project_name.is_empty());
        let mut m = crate::fixtures::tarball_sample();
        m.insert("Source".into(), json!({"ImageTarball": "./web.tar"}));
        let e = TriggerProperties::parse(&m).expect_err("local path");
        assert!(
            e.to_string().contains("Source.ImageTarball") && e.to_string().contains("packaged"),
            "{e}"
        );
        m.insert("Source".into(), json!({"ImageTarball": {"S3Bucket": "b"}}));
        let e = TriggerProperties::parse(&m).expect_err("no key");
        assert!(e.to_string().contains("Source.ImageTarball.S3Key"), "{e}");
        m.insert(
            "Source".into(),
            json!({"ImageTarball": {"S3Bucket": "b", "S3Key": "k"}}),
        );
        m.insert("Platform".into(), json!("linux/s390x"));
        assert!(TriggerProperties::parse(&m).is_err());
    }

    #[test]
    fn a_directory_source_says_to_package_first() {
        let mut m = sample();
        m.insert("Source".into(), json!({"Directory": "./api"}));
        let e = TriggerProperties::parse(&m).expect_err("directory");
        assert!(e.to_string().contains("packaged"), "{e}");
    }
}
