//! CIB030-CIB032: images used by Lambda functions must match what Lambda runs.
//!
//! A consumer is an `AWS::Lambda::Function` whose `Code.ImageUri`, or an
//! `AWS::Serverless::Function` whose `ImageUri`, refers to an image through
//! `Fn::GetAtt`, `Ref` or `Fn::Sub`.

use serde_json::Value;

use super::{Context, ids};
use crate::finding::Finding;
use crate::intrinsic::{get_att_target, ref_target};
use crate::path::TemplatePath;
use crate::platform::Platform;
use crate::spec::ImageSpec;

/// A Lambda function that runs one of the template's images.
#[derive(Debug)]
struct Consumer<'a> {
    function_id: &'a str,
    image: &'a ImageSpec,
    /// Attribute used (`ImageUri`, `ImageUriWithDigest`, ...).
    attribute: String,
    /// The architecture, when known at expansion time.
    architecture: Option<String>,
    image_uri_path: TemplatePath,
}

/// Checks every Lambda function that uses an image of the template.
pub fn check(context: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for consumer in consumers(context) {
        let function = consumer.function_id;
        let image = consumer.image;
        let fn_path = TemplatePath::properties_of(function);
        // A tarball image without a declared Platform has the tarball's own, which only
        // `cib package` and the provider can read (they fill it in or check it).
        let platform_known = !image.is_tarball() || image.platform_declared;
        if let Some(arch) = consumer.architecture.as_ref().filter(|_| platform_known) {
            let expected = image.platform().lambda_architecture();
            if arch != expected {
                let other = if image.platform() == Platform::Arm64 {
                    Platform::Amd64
                } else {
                    Platform::Arm64
                };
                findings.push(Finding::error(
                    ids::ARCHITECTURE_MISMATCH,
                    Some(function),
                    fn_path.key("Architectures"),
                    format!(
                        "function `{function}` runs on {arch} but image `{}` is built for {}; it would fail at start with an exec format error",
                        image.logical_id,
                        image.platform().docker_name()
                    ),
                    format!(
                        "set Architectures: [{expected}] on the function, or Platform: {} on the image",
                        other.docker_name()
                    ),
                ));
            }
        }
        if image.compression_literal() == Some("zstd") {
            findings.push(Finding::error(
                ids::ZSTD_IN_LAMBDA,
                Some(&image.logical_id),
                TemplatePath::properties_of(&image.logical_id).key("Compression"),
                format!("image `{}` uses zstd layers and feeds Lambda function `{function}`; Lambda does not document zstd support", image.logical_id),
                "use Compression: gzip for images that run on Lambda",
            ));
        }
        if image.image_tag.is_some() && consumer.attribute == "ImageUri" {
            findings.push(Finding::warning(
                ids::MUTABLE_TAG_IN_LAMBDA,
                Some(&image.logical_id),
                TemplatePath::properties_of(&image.logical_id).key("ImageTag"),
                format!(
                    "function `{function}` uses image `{}` by its fixed tag; Lambda pins the digest, so a re-push of the tag (its repository is the only one with mutable tags) leaves the old digest untagged, and the lifecycle rule expires it once it is 30 days past its own push, possibly the next day",
                    image.logical_id
                ),
                format!(
                    "drop ImageTag (content-hash tags change with the image), or use !GetAtt {}.ImageUriWithDigest at {}",
                    image.logical_id, consumer.image_uri_path
                ),
            ));
        }
    }
    findings
}

/// A Lambda function's use of some resource through its image URI: (function id, path
/// of the URI, referenced id, attribute, architecture when known).
pub(crate) type LambdaUse<'a> = (&'a str, TemplatePath, String, String, Option<String>);

/// Every Lambda function of the template whose image URI refers to a resource, with the
/// referenced logical ID and attribute and the function's architecture (x86_64 unless
/// `Architectures`, or SAM's `Globals`, says otherwise; `None` when not a literal).
pub(crate) fn lambda_uses<'a>(context: &Context<'a>) -> Vec<LambdaUse<'a>> {
    let Some(resources) = context.original.get("Resources").and_then(Value::as_object) else {
        return Vec::new();
    };
    let global_arch = context
        .original
        .pointer("/Globals/Function/Architectures")
        .and_then(single_architecture);
    let mut out = Vec::new();
    for (id, resource) in resources {
        let (uri, uri_path, arch) = match resource.get("Type").and_then(Value::as_str) {
            Some("AWS::Lambda::Function") => (
                resource.pointer("/Properties/Code/ImageUri"),
                TemplatePath::properties_of(id).key("Code").key("ImageUri"),
                resource.pointer("/Properties/Architectures"),
            ),
            Some("AWS::Serverless::Function") => (
                resource.pointer("/Properties/ImageUri"),
                TemplatePath::properties_of(id).key("ImageUri"),
                resource.pointer("/Properties/Architectures"),
            ),
            _ => continue,
        };
        let Some((target, attribute)) = uri.and_then(image_reference) else {
            continue;
        };
        let architecture = match arch {
            Some(value) => single_architecture(value),
            None => global_arch.clone().or_else(|| Some("x86_64".to_owned())),
        };
        out.push((id.as_str(), uri_path, target, attribute, architecture));
    }
    out
}

fn consumers<'a>(context: &Context<'a>) -> Vec<Consumer<'a>> {
    lambda_uses(context)
        .into_iter()
        .filter_map(
            |(function_id, image_uri_path, target, attribute, architecture)| {
                let image = context.images.iter().find(|i| i.logical_id == target)?;
                Some(Consumer {
                    function_id,
                    image,
                    attribute,
                    architecture,
                    image_uri_path,
                })
            },
        )
        .collect()
}

/// The one architecture of an `Architectures` list written as a literal.
fn single_architecture(value: &Value) -> Option<String> {
    match value.as_array()?.as_slice() {
        [Value::String(arch)] => Some(arch.clone()),
        _ => None,
    }
}

/// The image and attribute an `ImageUri` value refers to.
fn image_reference(value: &Value) -> Option<(String, String)> {
    if let Some((id, attr)) = get_att_target(value) {
        return Some((id.to_owned(), attr.to_owned()));
    }
    if let Some(id) = ref_target(value) {
        return Some((id.to_owned(), "ImageUri".to_owned()));
    }
    let template = match value.get("Fn::Sub")? {
        Value::String(text) => text.as_str(),
        Value::Array(items) => items.first()?.as_str()?,
        _ => return None,
    };
    let start = template.find("${")? + 2;
    let end = template[start..].find('}')? + start;
    let name = &template[start..end];
    Some(match name.split_once('.') {
        Some((id, attr)) => (id.to_owned(), attr.to_owned()),
        None => (name.to_owned(), "ImageUri".to_owned()),
    })
}
