//! CodeBuild's limit on environment-variable values, applied to every StartBuild override.
//!
//! CodeBuild refuses a value over 4096 characters (`InvalidInputException:
//! EnvironmentVariable should be at most 4096 characters`; AWS-FACTS.md section 12, limit
//! shared as [`cib_contract::ENV_VALUE_MAX_CHARS`]). An inline Dockerfile travels
//! gzip-compressed and base64-encoded (`CIB_INLINE_DOCKERFILE_GZ`, decoded by build.sh);
//! any value that still does not fit fails the resource before StartBuild, with a reason
//! naming the property it came from.

use std::io::Write;

use base64::Engine;
use cib_contract::ENV_VALUE_MAX_CHARS;
use flate2::Compression;
use flate2::write::GzEncoder;

use crate::build_request::{BuildRequest, Variable};
use crate::error::ProviderError;
use crate::properties::TriggerProperties;

/// The build variable that carries an inline Dockerfile, gzip-compressed and base64-encoded.
pub const INLINE_DOCKERFILE_VARIABLE: &str = "CIB_INLINE_DOCKERFILE_GZ";

/// `text` gzip-compressed (best compression) and base64-encoded (standard alphabet, padded),
/// as `printf %s "$V" | base64 -d | gunzip` reads it back.
pub fn gzip_base64(text: &str) -> String {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    // Writing into a Vec cannot fail; an error would leave an empty value, which the
    // build reports as an empty Dockerfile rather than running something else.
    let compressed = encoder
        .write_all(text.as_bytes())
        .and_then(|()| encoder.finish())
        .unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(compressed)
}

/// The trigger property (or provider setting) a build variable's value comes from.
pub fn origin(variable: &str, props: &TriggerProperties) -> String {
    if props.build_args.contains_key(variable) {
        return format!("BuildArgs.{variable}");
    }
    let secret = |prefix: &str| {
        variable
            .strip_prefix(prefix)
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| props.build_secrets.keys().nth(n))
            .map(|id| format!("BuildSecrets.{id}"))
    };
    if let Some(path) = secret("CIB_SECRET_ID_").or_else(|| secret("CIB_SECRET_")) {
        return path;
    }
    match variable {
        INLINE_DOCKERFILE_VARIABLE => "Source.Dockerfile (after gzip and base64)".into(),
        "CIB_IMAGE_URI" | "CIB_REPOSITORY_URI" | "CIB_REGISTRY" => "RepositoryUri".into(),
        "CIB_IMAGE_TAG" => "ImageTag / ImageTagPrefix".into(),
        "CIB_REPOSITORY_NAME" => "RepositoryName".into(),
        "CIB_REPOSITORY_ARN" => "RepositoryArn".into(),
        "CIB_DOCKERFILE" => "Dockerfile".into(),
        "CIB_TARGET" => "Target".into(),
        "CIB_CACHE_REF" => "CacheImageRef".into(),
        "CIB_REPLICA_REGIONS" => "ReplicaRegions".into(),
        "CIB_SCAN_IGNORE_FINDINGS" => "Scan.IgnoreFindings".into(),
        "CIB_DOCKER_LOGIN_SECRET" => "DockerLoginSecretArn".into(),
        "CIB_BUILDER_IMAGE" => "the support stack's BuilderImage".into(),
        "CIB_LOGICAL_ID" | "CIB_PHYSICAL_ID" => "the logical resource id".into(),
        "CIB_STACK_ID" => "the stack id".into(),
        other => format!("the build variable {other}"),
    }
}

/// `Ok` when every environment override of `build` is at most
/// [`ENV_VALUE_MAX_CHARS`] characters; otherwise an error naming the property of the
/// first value that is too long.
pub fn check(build: &BuildRequest, props: &TriggerProperties) -> Result<(), ProviderError> {
    match too_long(&build.variables) {
        None => Ok(()),
        Some((variable, chars)) => Err(ProviderError::property(
            origin(&variable.name, props),
            format!(
                "its value is {chars} characters as the build variable {}, over CodeBuild's \
                 limit of {ENV_VALUE_MAX_CHARS} characters per environment variable; shorten \
                 it{}",
                variable.name,
                if variable.name == INLINE_DOCKERFILE_VARIABLE {
                    " or put the Dockerfile in a build context (Source.Directory or S3)"
                } else {
                    " or pass it another way (a file in the build context, a build secret)"
                }
            ),
        )),
    }
}

/// The first variable whose value is over the limit, with its length in characters.
pub fn too_long(variables: &[Variable]) -> Option<(&Variable, usize)> {
    variables
        .iter()
        .map(|v| (v, v.value.chars().count()))
        .find(|(_, chars)| *chars > ENV_VALUE_MAX_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build_request::build_request;
    use crate::build_request::tests::{context, request};
    use cib_trigger::fixtures::sample;
    use flate2::read::GzDecoder;
    use serde_json::{Value, json};
    use std::io::Read;

    fn overrides(
        edit: impl FnOnce(&mut serde_json::Map<String, Value>),
    ) -> Result<BuildRequest, String> {
        let mut m = sample();
        m.insert(
            "BuildSecrets".into(),
            json!({"npm": "arn:aws:secretsmanager:us-east-1:1:secret:npm"}),
        );
        edit(&mut m);
        let props = TriggerProperties::parse(&m).map_err(|e| e.to_string())?;
        let build = build_request(&request(), &props, "t1", "Api-1", "tok", &context());
        check(&build, &props).map_err(|e| e.to_string())?;
        Ok(build)
    }

    fn assert_all_fit(build: &BuildRequest) {
        for v in &build.variables {
            assert!(
                v.value.chars().count() <= ENV_VALUE_MAX_CHARS,
                "{} is {} characters",
                v.name,
                v.value.chars().count()
            );
        }
    }

    #[test]
    fn every_override_value_of_ordinary_and_long_inputs_fits() {
        assert_all_fit(&overrides(|_| {}).expect("ordinary"));
        let at_limit = overrides(|m| {
            m.insert("BuildArgs".into(), json!({"API_URL": "é".repeat(4096)}));
        })
        .expect("a value of exactly 4096 characters fits");
        assert_all_fit(&at_limit);
        let dockerfile = "FROM public.ecr.aws/lambda/provided:al2023
"
        .to_string()
            + &"RUN dnf install -y some-package && dnf clean all
"
            .repeat(1000);
        let inline = overrides(|m| {
            m.insert("Source".into(), json!({"Dockerfile": dockerfile}));
        })
        .expect("a 50 KB inline Dockerfile compresses below the limit");
        assert_all_fit(&inline);
        assert!(
            inline
                .variables
                .iter()
                .any(|v| v.name == INLINE_DOCKERFILE_VARIABLE)
        );
        assert!(
            !inline
                .variables
                .iter()
                .any(|v| v.name == "CIB_INLINE_DOCKERFILE")
        );
    }

    #[test]
    fn a_value_that_cannot_fit_names_its_property() {
        let e = overrides(|m| {
            m.insert("BuildArgs".into(), json!({"API_URL": "x".repeat(4097)}));
        })
        .expect_err("too long");
        assert!(e.contains("BuildArgs.API_URL") && e.contains("4097"), "{e}");
        let e = overrides(|m| {
            m.insert("Target".into(), json!("t".repeat(5000)));
        })
        .expect_err("too long");
        assert!(e.starts_with("property Target:"), "{e}");
        let e = overrides(|m| {
            m.insert(
                "BuildSecrets".into(),
                json!({"npm": format!("arn:aws:secretsmanager:us-east-1:1:secret:{}", "n".repeat(4100))}),
            );
        })
        .expect_err("too long");
        assert!(e.contains("BuildSecrets.npm"), "{e}");
    }

    #[test]
    fn gzip_base64_round_trips() {
        let text = "FROM public.ecr.aws/lambda/provided:al2023\nRUN echo 'é \"x\"'\n".repeat(50);
        let encoded = gzip_base64(&text);
        assert!(encoded.len() < text.len());
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .expect("base64");
        let mut out = String::new();
        GzDecoder::new(bytes.as_slice())
            .read_to_string(&mut out)
            .expect("gzip");
        assert_eq!(out, text);
    }
}
