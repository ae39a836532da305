//! What the deploy will do with one image, decided from its predicted tag, the registry
//! and what the stack last deployed; the provider's own rules (docs/provider.md): a tag at
//! home and in every replica is answered at once, a tag at home only is copied to the
//! replicas, a missing tag is built, and a fixed `ImageTag` is built on every update.

use serde_json::Value;

use super::diff::{Change, changes};
use super::images::{Image, Presence};
use super::predict::{Prediction, predict};
use super::resolve::substitute;

/// Where a tag is in one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The tag is there, with this digest.
    Found(String),
    /// The repository is there, the tag is not.
    NoImage,
    /// The repository is not there.
    NoRepository,
}

/// What the registry holds for one tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registry {
    /// The home region's lookup, then each replica region's.
    Looked {
        /// The home region.
        home: Lookup,
        /// Replica regions and their lookups.
        replicas: Vec<(String, Lookup)>,
    },
    /// The repository name is known only during the deploy: this deploy creates it.
    NewRepository,
}

/// The action for one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing to build or copy.
    Skip,
    /// Copied from the home region into replica regions, not built.
    Copy,
    /// Built.
    Build,
    /// Cannot be told before the deploy.
    Unknown,
}

impl Action {
    /// The action as written in the plan.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Skip => "skip",
            Action::Copy => "copy",
            Action::Build => "build",
            Action::Unknown => "unknown",
        }
    }
}

/// The plan for one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The trigger's logical id.
    pub logical_id: String,
    /// What happens.
    pub action: Action,
    /// Why, in one line.
    pub reason: String,
    /// The predicted tag, when known.
    pub tag: Option<String>,
    /// The property paths behind the action (changed inputs, deploy-time values).
    pub paths: Vec<String>,
}

/// The properties with each placeholder written as its intrinsic, for comparing two
/// deploys and for showing.
pub fn shown(image: &Image) -> Value {
    substitute(&image.properties, &|i| match image.cause(i) {
        Some(c) => format!("<{}>", c.intrinsic),
        None => "<unknown>".to_owned(),
    })
}

/// The changed inputs the tag depends on: for each top-level property that differs from the
/// last deploy, the tag is computed with that property as it was; when it comes out other
/// than the new tag, the property's changed leaves are reasons.
fn tag_changes(old: &Value, new: &Value, new_tag: &str) -> Vec<Change> {
    let (Some(o), Some(n)) = (old.as_object(), new.as_object()) else {
        return Vec::new();
    };
    let mut keys: Vec<&String> = o.keys().chain(n.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for key in keys {
        if o.get(key) == n.get(key) {
            continue;
        }
        let mut reverted = n.clone();
        match o.get(key) {
            Some(v) => reverted.insert(key.clone(), v.clone()),
            None => reverted.remove(key),
        };
        let matters = match predict(&Value::Object(reverted)) {
            Prediction::Tag { tag, .. } => tag != new_tag,
            _ => true,
        };
        if matters {
            changes(key, o.get(key), n.get(key), &mut out);
        }
    }
    out
}

/// Decides for `image`, given the same image in the stack's last deploy (if it was there)
/// and the registry's answer for its tag (`None` when the tag is not predicted).
pub fn decide(image: &Image, last: Option<&Image>, registry: Option<&Registry>) -> Decision {
    let mut d = Decision {
        logical_id: image.logical_id.clone(),
        action: Action::Unknown,
        reason: String::new(),
        tag: None,
        paths: Vec::new(),
    };
    if let Presence::Unknown(cause) = &image.presence {
        d.reason = format!(
            "whether it is deployed depends on {} ({})",
            cause.intrinsic, cause.why
        );
        return d;
    }
    let tag = match &image.prediction {
        Prediction::Tag { tag, .. } => tag.clone(),
        Prediction::Unknown { paths } => {
            let parts: Vec<String> = paths
                .iter()
                .map(|(path, i)| match image.cause(*i) {
                    Some(c) => format!("{path} is {} ({})", c.intrinsic, c.why),
                    None if (path.as_str(), *i) == super::predict::TARBALL_DIGEST => format!(
                        "the tag is the manifest digest of the tarball at {path}, read during the deploy"
                    ),
                    None => format!("{path} is known only during the deploy"),
                })
                .collect();
            d.paths = paths.iter().map(|(p, _)| p.clone()).collect();
            // A new image in a repository this deploy creates is built, whatever its tag.
            if last.is_none() && image.known("RepositoryName").is_none() {
                d.action = Action::Build;
                d.reason = format!(
                    "new image (its tag is known only during the deploy: {})",
                    parts.join("; ")
                );
                return d;
            }
            d.reason = format!("unknown until deploy: {}", parts.join("; "));
            return d;
        }
        Prediction::Refused { message } => {
            d.reason = format!("unknown until deploy: cannot compute the tag: {message}");
            return d;
        }
    };
    d.tag = Some(tag.clone());
    let new_shown = shown(image);
    let last = last.filter(|l| l.presence == Presence::Deployed);
    let last_shown = last.map(shown);
    let changed = match &last_shown {
        Some(old) => tag_changes(old, &new_shown, &tag),
        None => Vec::new(),
    };
    d.paths = changed.iter().map(|c| c.path.clone()).collect();
    let reasons = changed
        .iter()
        .map(|c| c.text.clone())
        .collect::<Vec<_>>()
        .join("; ");
    let fixed = image
        .known("ImageTag")
        .and_then(Value::as_str)
        .is_some_and(|t| !t.is_empty());
    let unchanged = last_shown.as_ref() == Some(&new_shown);
    let repository = image
        .known("RepositoryName")
        .and_then(Value::as_str)
        .unwrap_or("its repository")
        .to_owned();
    if unchanged {
        d.action = Action::Skip;
        d.reason =
            "unchanged since the last deploy (CloudFormation does not send it to the provider)"
                .to_owned();
        return d;
    }
    if fixed {
        d.action = Action::Build;
        d.paths.push("ImageTag".to_owned());
        d.reason = format!(
            "ImageTag is fixed ({tag}): the provider builds it on every update{}",
            if reasons.is_empty() {
                String::new()
            } else {
                format!("; {reasons}")
            }
        );
        return d;
    }
    let missing = |why: String| {
        if reasons.is_empty() {
            why
        } else {
            reasons.clone()
        }
    };
    match registry {
        None | Some(Registry::NewRepository) => {
            d.action = Action::Build;
            d.reason = if last.is_none() {
                "new image".to_owned()
            } else {
                missing("its repository is created by this deploy".to_owned())
            };
        }
        Some(Registry::Looked { home, replicas }) => match home {
            Lookup::Found(digest) => {
                let other = replicas.iter().find_map(|(region, l)| match l {
                    Lookup::Found(d) if d != digest => Some((region, d)),
                    _ => None,
                });
                if let Some((region, replica_digest)) = other {
                    d.reason = format!(
                        "the deploy fails: the tag is {digest} at home but {replica_digest} in \
                         {region}, and the provider never moves a tag (delete the image in {region})"
                    );
                    return d;
                }
                let absent: Vec<&str> = replicas
                    .iter()
                    .filter(|(_, l)| !matches!(l, Lookup::Found(_)))
                    .map(|(r, _)| r.as_str())
                    .collect();
                if absent.is_empty() {
                    d.action = Action::Skip;
                    d.reason = if replicas.is_empty() {
                        format!("the tag exists in {repository}")
                    } else {
                        format!(
                            "the tag exists in {repository}, at home and in every replica region"
                        )
                    };
                } else {
                    d.action = Action::Copy;
                    d.reason = format!(
                        "the tag exists in {repository} at home, missing in {}: copied, not built",
                        absent.join(", ")
                    );
                }
            }
            Lookup::NoImage | Lookup::NoRepository => {
                d.action = Action::Build;
                d.reason = if last.is_none() {
                    "new image".to_owned()
                } else {
                    missing(format!("the tag is not in {repository}"))
                };
            }
        },
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::images::resolve;
    use crate::plan::resolve::Context;
    use serde_json::json;

    fn template(props: serde_json::Map<String, Value>) -> Value {
        json!({"Resources": {"Api": {"Type": "Custom::ContainerImageBuild", "Properties": props}}})
    }

    fn image(edit: impl Fn(&mut serde_json::Map<String, Value>)) -> Image {
        let mut p = cib_trigger::fixtures::sample();
        edit(&mut p);
        resolve(&template(p), &Context::default()).remove(0)
    }

    fn found() -> Registry {
        Registry::Looked {
            home: Lookup::Found("sha256:a".into()),
            replicas: vec![("us-west-2".into(), Lookup::Found("sha256:a".into()))],
        }
    }

    #[test]
    fn a_changed_build_arg_is_the_reason_and_a_build_spec_is_not() {
        let old = image(|_| {});
        let new = image(|p| {
            p.insert(
                "BuildArgs".into(),
                json!({"STAGE": "canary", "API_URL": "https://x"}),
            );
            p.insert("BuildSpec".into(), json!("version: 0.2 # newer cib"));
        });
        let missing = Registry::Looked {
            home: Lookup::NoImage,
            replicas: vec![],
        };
        let d = decide(&new, Some(&old), Some(&missing));
        assert_eq!(d.action, Action::Build);
        assert_eq!(d.paths, ["BuildArgs.STAGE"]);
        assert_eq!(d.reason, r#"BuildArgs.STAGE: "prod" -> "canary""#);
    }

    #[test]
    fn a_tag_everywhere_is_skipped_and_one_missing_in_a_replica_is_copied() {
        let old = image(|_| {});
        let new = image(|p| {
            p.insert("BuildSpec".into(), json!("version: 0.2 # newer cib"));
        });
        assert_eq!(
            decide(&new, Some(&old), Some(&found())).action,
            Action::Skip
        );
        let partial = Registry::Looked {
            home: Lookup::Found("sha256:a".into()),
            replicas: vec![("us-west-2".into(), Lookup::NoRepository)],
        };
        let d = decide(&new, Some(&old), Some(&partial));
        assert_eq!(d.action, Action::Copy);
        assert!(d.reason.contains("missing in us-west-2"), "{}", d.reason);
    }

    #[test]
    fn unchanged_properties_are_never_sent_and_a_fixed_tag_is_always_built() {
        let old = image(|_| {});
        let missing = Registry::Looked {
            home: Lookup::NoImage,
            replicas: vec![],
        };
        let same = decide(&image(|_| {}), Some(&old), Some(&missing));
        assert_eq!(same.action, Action::Skip);
        let fixed = image(|p| {
            p.insert("ImageTag".into(), json!("v1"));
        });
        let d = decide(&fixed, Some(&old), Some(&found()));
        assert_eq!((d.action, d.tag.as_deref()), (Action::Build, Some("v1")));
    }
}
