//! The StartBuild request for one trigger event, as plain data (the SDK adapter sends it).

use crate::event::CfnRequest;
use crate::properties::{Source, TriggerProperties};

/// How an environment variable's value is interpreted by CodeBuild.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariableKind {
    /// The value itself.
    Plaintext,
    /// The value is a Secrets Manager secret id or ARN, resolved by CodeBuild.
    SecretsManager,
    /// The value is the name of an SSM parameter, resolved by CodeBuild inside the build
    /// (BatchGetBuilds and build-state events show only the name).
    ParameterStore,
}

/// One environment-variable override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// Name.
    pub name: String,
    /// Value (or secret reference).
    pub value: String,
    /// How CodeBuild reads the value.
    pub kind: VariableKind,
}

/// Everything StartBuild is called with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildRequest {
    /// The shared project.
    pub project_name: String,
    /// The buildspec text (`buildspecOverride`).
    pub buildspec: String,
    /// `S3` or `NO_SOURCE`.
    pub source_type: &'static str,
    /// `bucket/key` for S3 sources.
    pub source_location: Option<String>,
    /// The S3 object version, when pinned.
    pub source_version: Option<String>,
    /// The build's timeout: the image's own plus the replica wait and the scan wait.
    pub timeout_minutes: u32,
    /// Log group override.
    pub log_group_name: Option<String>,
    /// Token that makes a repeated StartBuild of the same request start one build.
    pub idempotency_token: String,
    /// The environment-variable overrides.
    pub variables: Vec<Variable>,
}

fn plain(name: &str, value: &str) -> Variable {
    Variable {
        name: name.into(),
        value: value.into(),
        kind: VariableKind::Plaintext,
    }
}

/// What a build gets from the provider itself rather than from the trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildContext {
    /// The SSM parameter holding the response URL (see [`crate::gate::response_url`]).
    pub response_parameter: String,
    /// The BuildKit image the build starts its builder from (`CIB_BUILDER_IMAGE` of the
    /// provider Lambda, the support stack's `BuilderImage`).
    pub builder_image: String,
}

/// CodeBuild's longest build timeout, in minutes.
pub const MAX_BUILD_MINUTES: u32 = 2160;

/// The StartBuild request for `request`, building `tag` as `physical_id`.
pub fn build_request(
    request: &CfnRequest,
    props: &TriggerProperties,
    tag: &str,
    physical_id: &str,
    idempotency_token: &str,
    context: &BuildContext,
) -> BuildRequest {
    let mut v = vec![
        plain("CIB_IMAGE_URI", &format!("{}:{tag}", props.repository_uri)),
        plain("CIB_IMAGE_TAG", tag),
        plain("CIB_REPOSITORY_URI", &props.repository_uri),
        plain("CIB_REPOSITORY_NAME", &props.repository_name),
        plain("CIB_REPOSITORY_ARN", &props.repository_arn),
        plain("CIB_REGISTRY", props.registry()),
        plain("CIB_PLATFORM", &props.platform),
        plain("CIB_DOCKERFILE", &props.dockerfile),
        plain("CIB_TARGET", props.target.as_deref().unwrap_or("")),
        plain("CIB_COMPRESSION", &props.compression),
        plain(
            "CIB_CACHE_DISABLED",
            if props.cache_disabled {
                "true"
            } else {
                "false"
            },
        ),
        plain("CIB_REPLICA_REGIONS", &props.replica_regions.join(" ")),
        plain(
            "CIB_REPLICA_WAIT_SECONDS",
            &(props.replica_wait_minutes * 60).to_string(),
        ),
        // The URL itself stays in SSM: a PLAINTEXT value would be readable by anyone who
        // may read builds.
        Variable {
            name: "CIB_RESPONSE_URL".into(),
            value: context.response_parameter.clone(),
            kind: VariableKind::ParameterStore,
        },
        plain("CIB_RESPONSE_PARAMETER", &context.response_parameter),
        plain("CIB_BUILDER_IMAGE", &context.builder_image),
        plain("CIB_STACK_ID", &request.stack_id),
        plain("CIB_REQUEST_ID", &request.request_id),
        plain("CIB_LOGICAL_ID", &request.logical_resource_id),
        plain("CIB_PHYSICAL_ID", physical_id),
    ];
    // A fixed tag is pushed together with the content tag (see `cib_trigger::content_tag`).
    if props.image_tag.is_some()
        && let Ok(content) = cib_trigger::tag::content_tag(props)
    {
        v.push(plain("CIB_CONTENT_TAG", &content));
    }
    if let Some(cache_ref) = &props.cache_image_ref {
        v.push(plain("CIB_CACHE_REF", cache_ref));
    }
    // The vulnerability gate (respond.sh runs scan.sh when CIB_SCAN_FAIL_ON_SEVERITY is set).
    if let Some(gate) = &props.scan {
        v.push(plain("CIB_SCAN_FAIL_ON_SEVERITY", &gate.fail_on_severity));
        v.push(plain(
            "CIB_SCAN_IGNORE_FINDINGS",
            &gate.ignore_findings.join(" "),
        ));
        v.push(plain(
            "CIB_SCAN_WAIT_SECONDS",
            &(gate.wait_minutes * 60).to_string(),
        ));
    }
    if let Source::Inline { dockerfile } = &props.source {
        v.push(plain(
            crate::long_values::INLINE_DOCKERFILE_VARIABLE,
            &crate::long_values::gzip_base64(dockerfile),
        ));
    }
    if let Some(secret) = &props.docker_login_secret_arn {
        v.push(Variable {
            name: "CIB_DOCKER_LOGIN_SECRET".into(),
            value: secret.clone(),
            kind: VariableKind::SecretsManager,
        });
    }
    for (i, (id, arn)) in props.build_secrets.iter().enumerate() {
        v.push(plain(&format!("CIB_SECRET_ID_{i}"), id));
        v.push(Variable {
            name: format!("CIB_SECRET_{i}"),
            value: arn.clone(),
            kind: VariableKind::SecretsManager,
        });
    }
    for (name, value) in &props.build_args {
        v.push(plain(name, value));
    }
    let (source_type, source_location, source_version) = match &props.source {
        Source::S3 {
            bucket,
            key,
            version,
        } => ("S3", Some(format!("{bucket}/{key}")), version.clone()),
        Source::Inline { .. } => ("NO_SOURCE", None, None),
        // Never built: the handler pushes a tarball itself before any build request.
        Source::ImageTarball { .. } => ("NO_SOURCE", None, None),
    };
    let replica_wait = if props.replica_regions.is_empty() {
        0
    } else {
        props.replica_wait_minutes
    };
    let wait = replica_wait + props.scan.as_ref().map_or(0, |gate| gate.wait_minutes);
    BuildRequest {
        project_name: props.project_name.clone(),
        buildspec: props.build_spec.clone(),
        source_type,
        source_location,
        source_version,
        timeout_minutes: (props.timeout_minutes + wait).clamp(5, MAX_BUILD_MINUTES),
        log_group_name: props.log_group_name.clone(),
        idempotency_token: idempotency_token.to_string(),
        variables: v,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::event::RequestType;
    use cib_trigger::fixtures::sample;
    use serde_json::json;

    pub(crate) fn request() -> CfnRequest {
        CfnRequest {
            request_type: RequestType::Create,
            response_url: "https://example/r".into(),
            stack_id: "arn:stack".into(),
            request_id: "r-1".into(),
            resource_type: "Custom::ContainerImageBuild".into(),
            logical_resource_id: "Api".into(),
            physical_resource_id: None,
            resource_properties: sample(),
            old_resource_properties: None,
            queue_retry: None,
        }
    }

    pub(crate) fn context() -> BuildContext {
        BuildContext {
            response_parameter: "/ContainerImageBuild/responses/u/h".into(),
            builder_image:
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/cib-tools/buildkit@sha256:00".into(),
        }
    }

    #[test]
    fn every_input_travels_as_a_variable() {
        let mut m = sample();
        m.insert("BuildSecrets".into(), json!({"npm": "arn:secret:npm"}));
        m.insert(
            "CacheImageRef".into(),
            json!("123456789012.dkr.ecr.us-east-1.amazonaws.com/cib-cache/u:Api"),
        );
        let props = TriggerProperties::parse(&m).expect("parse");
        let b = build_request(&request(), &props, "t1", "Api-1", "tok", &context());
        let get = |n: &str| {
            b.variables
                .iter()
                .find(|v| v.name == n)
                .map(|v| (v.value.as_str(), v.kind))
        };
        assert_eq!(get("STAGE"), Some(("prod", VariableKind::Plaintext)));
        assert_eq!(
            get("CIB_IMAGE_URI").map(|v| v.0),
            Some("123456789012.dkr.ecr.us-east-1.amazonaws.com/api:t1")
        );
        assert_eq!(get("CIB_SECRET_ID_0").map(|v| v.0), Some("npm"));
        assert_eq!(
            get("CIB_SECRET_0"),
            Some(("arn:secret:npm", VariableKind::SecretsManager))
        );
        assert_eq!(
            get("CIB_RESPONSE_URL"),
            Some((
                "/ContainerImageBuild/responses/u/h",
                VariableKind::ParameterStore
            )),
            "the URL itself never becomes a build variable"
        );
        assert!(
            b.variables
                .iter()
                .all(|v| !v.value.contains("https://example/r"))
        );
        assert_eq!(
            get("CIB_RESPONSE_PARAMETER"),
            Some((
                "/ContainerImageBuild/responses/u/h",
                VariableKind::Plaintext
            ))
        );
        assert_eq!(
            get("CIB_BUILDER_IMAGE").map(|v| v.0),
            Some(context().builder_image.as_str())
        );
        assert_eq!(
            get("CIB_CACHE_REF").map(|v| v.0),
            Some("123456789012.dkr.ecr.us-east-1.amazonaws.com/cib-cache/u:Api")
        );
        assert_eq!(b.source_location.as_deref(), Some("b/k.zip"));
        assert_eq!(b.timeout_minutes, 45, "30 of build + 15 of replica wait");
        assert!(
            b.variables.iter().all(|v| !v.name.starts_with("CIB_SCAN_")),
            "no Scan, no gate"
        );
    }

    #[test]
    fn a_fixed_tag_build_also_pushes_its_content_tag() {
        let mut m = sample();
        m.insert("ImageTag".into(), json!("release"));
        let props = TriggerProperties::parse(&m).expect("parse");
        let b = build_request(&request(), &props, "release", "Api-1", "tok", &context());
        let content = b
            .variables
            .iter()
            .find(|v| v.name == "CIB_CONTENT_TAG")
            .map(|v| v.value.clone());
        assert_eq!(content, cib_trigger::tag::content_tag(&props).ok());
        assert_ne!(content.as_deref(), Some("release"));
        let unfixed = TriggerProperties::parse(&sample()).expect("parse");
        let b = build_request(&request(), &unfixed, "t1", "Api-1", "tok", &context());
        assert!(b.variables.iter().all(|v| v.name != "CIB_CONTENT_TAG"));
    }

    #[test]
    fn the_vulnerability_gate_travels_as_variables_and_extends_the_timeout() {
        let mut m = sample();
        m.insert(
            "Scan".into(),
            json!({"FailOnSeverity": "MEDIUM", "IgnoreFindings": ["CVE-2024-1", "CVE-2024-2"]}),
        );
        m.insert("ScanWaitMinutes".into(), json!("10"));
        let props = TriggerProperties::parse(&m).expect("parse");
        let b = build_request(&request(), &props, "t1", "Api-1", "tok", &context());
        let get = |n: &str| {
            b.variables
                .iter()
                .find(|v| v.name == n)
                .map(|v| v.value.as_str())
        };
        assert_eq!(get("CIB_SCAN_FAIL_ON_SEVERITY"), Some("MEDIUM"));
        assert_eq!(
            get("CIB_SCAN_IGNORE_FINDINGS"),
            Some("CVE-2024-1 CVE-2024-2")
        );
        assert_eq!(get("CIB_SCAN_WAIT_SECONDS"), Some("600"));
        assert_eq!(
            b.timeout_minutes, 55,
            "30 of build + 15 of replica wait + 10 of scan wait"
        );
    }
}
