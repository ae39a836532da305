//! The image tag predicted from a trigger's resolved properties: the only place `cib plan`
//! calls `cib-trigger`, the code the provider tags with at deploy time.
//!
//! Properties may hold placeholders for values known only during the deploy. Each is
//! replaced by two different stand-ins in turn: when the tag comes out the same both
//! ways, it does not depend on the unknown (a repository URI, a build spec), and is
//! predicted; otherwise the unknowns the tag depends on are named. A shape `cib-trigger`
//! refuses (one it does not know yet) is "unknown until deploy" too, never a guess.

use serde_json::{Map, Value};

use super::resolve::{placeholders, substitute};
use cib_trigger::index::{IndexProperties, is_index};
use cib_trigger::{TriggerProperties, image_tag};

/// What the tag of one image is, before the deploy.
#[derive(Debug, Clone, PartialEq)]
pub enum Prediction {
    /// The tag, and the properties it was computed from.
    Tag {
        /// The tag.
        tag: String,
        /// The replica regions the image goes to.
        replica_regions: Vec<String>,
    },
    /// The tag depends on values known only during the deploy.
    Unknown {
        /// Property paths and the placeholder each holds, the tag depends on.
        paths: Vec<(String, usize)>,
    },
    /// `cib-trigger` refuses the (fully known) properties.
    Refused {
        /// Its message, naming the property path.
        message: String,
    },
}

/// A stand-in for the unknown `index`: a digest for a platform's `ImageDigest` (which an
/// index resource checks for shape; the index tag does not read it), text otherwise.
fn stand_in(variant: char, index: usize, digests: &[usize]) -> String {
    if digests.contains(&index) {
        let seed = if variant == 'a' { 0xa } else { 0xb };
        format!("sha256:{:x}{:063x}", seed, index)
    } else {
        format!("cib-plan-unknown-{variant}-{index}")
    }
}

/// The tag and replica regions the provider would compute from `props` with each unknown
/// replaced by its `a` or `b` stand-in: an index resource's (it lists `Manifests`) or a
/// build's or tarball's trigger.
fn tag_with(
    props: &Value,
    digests: &[usize],
    b_for: &dyn Fn(usize) -> bool,
) -> Result<(String, Vec<String>), String> {
    let v = substitute(props, &|i| {
        stand_in(if b_for(i) { 'b' } else { 'a' }, i, digests)
    });
    let map: Map<String, Value> = v.as_object().cloned().unwrap_or_default();
    if is_index(&map) {
        let parsed = IndexProperties::parse(&map).map_err(|e| e.to_string())?;
        let tag = parsed.tag().map_err(|e| e.to_string())?;
        return Ok((tag, parsed.replica_regions));
    }
    let parsed = TriggerProperties::parse(&map).map_err(|e| e.to_string())?;
    let tag = image_tag(&parsed).map_err(|e| e.to_string())?;
    Ok((tag, parsed.replica_regions))
}

/// The path named for a tarball image's tag, which is its manifest digest: read from the
/// tarball at deploy time, not from the properties (a marker, not a placeholder index).
pub const TARBALL_DIGEST: (&str, usize) = ("Source.ImageTarball", usize::MAX);

/// Whether `props` are a tarball trigger's without a fixed `ImageTag`: the provider tags
/// such an image with the tarball's manifest digest (`cib_trigger::tarball_tag`).
fn tagged_by_tarball_digest(props: &Value) -> bool {
    props["Source"].get("ImageTarball").is_some()
        && props
            .get("ImageTag")
            .is_none_or(|t| t.as_str().is_some_and(str::is_empty) || t.is_null())
}

/// Predicts the tag of the trigger whose resolved properties are `props`.
pub fn predict(props: &Value) -> Prediction {
    if tagged_by_tarball_digest(props) {
        return Prediction::Unknown {
            paths: vec![(TARBALL_DIGEST.0.to_owned(), TARBALL_DIGEST.1)],
        };
    }
    let mut found = Vec::new();
    placeholders(props, "", &mut found);
    let digests: Vec<usize> = found
        .iter()
        .filter(|(path, _)| path.ends_with("ImageDigest"))
        .map(|(_, index)| *index)
        .collect();
    let tag_with = |b_for: &dyn Fn(usize) -> bool| tag_with(props, &digests, b_for);
    let first = tag_with(&|_| false);
    if found.is_empty() {
        return match first {
            Ok((tag, replica_regions)) => Prediction::Tag {
                tag,
                replica_regions,
            },
            Err(message) => Prediction::Refused { message },
        };
    }
    let second = tag_with(&|_| true);
    if let (Ok((a, replica_regions)), Ok((b, _))) = (&first, &second)
        && a == b
    {
        return Prediction::Tag {
            tag: a.clone(),
            replica_regions: replica_regions.clone(),
        };
    }
    // Which unknowns the tag depends on: each varied alone.
    let baseline = first.as_ref().ok().map(|(t, _)| t.clone());
    let mut paths: Vec<(String, usize)> = found
        .iter()
        .filter(|(_, index)| {
            let varied = tag_with(&|i| i == *index).ok().map(|(t, _)| t);
            varied.is_none() || baseline.is_none() || varied != baseline
        })
        .cloned()
        .collect();
    if paths.is_empty() {
        paths = found;
    }
    Prediction::Unknown { paths }
}

/// The attributes the provider answers for an image whose tag is predicted, except its
/// digest (known only once built): `ImageUri` is `<repository uri>:<tag>`, as the provider
/// writes it. Nothing when the tag or the repository URI is not known.
pub fn attributes(image: &super::images::Image) -> Vec<(String, Value)> {
    let Prediction::Tag {
        tag,
        replica_regions,
    } = &image.prediction
    else {
        return Vec::new();
    };
    let mut out = vec![("ImageTag".to_owned(), Value::String(tag.clone()))];
    let known = |name: &str| image.known(name).and_then(Value::as_str).map(str::to_owned);
    if let Some(name) = known("RepositoryName") {
        out.push(("RepositoryName".to_owned(), Value::String(name)));
    }
    if let Some(arn) = known("RepositoryArn") {
        out.push(("RepositoryArn".to_owned(), Value::String(arn)));
    }
    let Some(uri) = known("RepositoryUri") else {
        return out;
    };
    out.push(("RepositoryUri".to_owned(), Value::String(uri.clone())));
    out.push(("ImageUri".to_owned(), Value::String(format!("{uri}:{tag}"))));
    // The home region is in the URI: `<account>.dkr.ecr.<region>.<suffix>/<name>`.
    if let Some(home) = uri.split('.').nth(3) {
        for region in replica_regions {
            let replica_uri = uri.replacen(&format!(".{home}."), &format!(".{region}."), 1);
            out.push((
                format!("ImageUri.{region}"),
                Value::String(format!("{replica_uri}:{tag}")),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::resolve::{Context, Resolver};
    use serde_json::json;

    fn resolved(props: Value) -> Value {
        let template = json!({"Resources": {"Repo": {}, "Queue": {}}});
        let ctx = Context::default();
        let mut r = Resolver::new(&template, &ctx);
        r.resolve(&props).unwrap_or_default()
    }

    fn props(build_arg: Value) -> Value {
        let mut p = cib_trigger::fixtures::sample();
        p.insert(
            "RepositoryUri".into(),
            json!({"Fn::GetAtt": ["Repo", "RepositoryUri"]}),
        );
        p.insert("BuildArgs".into(), json!({"STAGE": build_arg}));
        Value::Object(p)
    }

    #[test]
    fn an_unknown_the_tag_does_not_read_leaves_the_tag_predicted() {
        let p = resolved(props(json!("prod")));
        let Prediction::Tag { tag, .. } = predict(&p) else {
            panic!("expected a tag: {:?}", predict(&p));
        };
        let mut known = cib_trigger::fixtures::sample();
        known.insert("BuildArgs".into(), json!({"STAGE": "prod"}));
        let provider = TriggerProperties::parse(&known).and_then(|p| image_tag(&p));
        assert_eq!(Ok(tag), provider);
    }

    #[test]
    fn an_unknown_build_arg_is_named_by_its_path() {
        let p = resolved(props(json!({"Fn::GetAtt": ["Queue", "Arn"]})));
        let Prediction::Unknown { paths } = predict(&p) else {
            panic!("expected unknown: {:?}", predict(&p));
        };
        let names: Vec<&str> = paths.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(names, ["BuildArgs.STAGE"]);
    }

    #[test]
    fn a_tarball_images_tag_is_its_manifest_digest_known_at_deploy() {
        let mut p = cib_trigger::fixtures::tarball_sample();
        let Prediction::Unknown { paths } = predict(&Value::Object(p.clone())) else {
            panic!("a tarball's tag is read from the tarball");
        };
        assert_eq!(paths, [(TARBALL_DIGEST.0.to_owned(), TARBALL_DIGEST.1)]);
        p.insert("ImageTag".into(), json!("v1"));
        assert!(matches!(
            predict(&Value::Object(p)),
            Prediction::Tag { tag, .. } if tag == "v1"
        ));
    }

    #[test]
    fn a_shape_cib_trigger_refuses_is_not_guessed() {
        let mut p = cib_trigger::fixtures::sample();
        p.insert("Platform".into(), json!({"Os": "linux"}));
        assert!(matches!(
            predict(&Value::Object(p)),
            Prediction::Refused { message } if message.contains("Platform")
        ));
    }
}
