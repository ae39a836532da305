//! Every image trigger of an expanded template, resolved and its tag predicted.
//!
//! Images are resolved in rounds: an image whose properties read another image's
//! attributes (`!GetAtt Base.ImageUri` in `BuildArgs`) is resolved again once that image's
//! tag is predicted, since the provider answers `ImageUri` as `<repository uri>:<tag>`.

use serde_json::{Value, json};

use super::predict::{Prediction, predict};
use super::resolve::{Cause, Context, Resolver, placeholder};

/// The trigger resource type.
pub const TRIGGER_TYPE: &str = "Custom::ContainerImageBuild";

/// Whether an image is deployed at all (its `Condition`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// No condition, or a true one.
    Deployed,
    /// Its condition is false: the deploy does not have it.
    Absent,
    /// Its condition depends on a value known only during the deploy.
    Unknown(Cause),
}

/// One image of a template, resolved.
#[derive(Debug, Clone)]
pub struct Image {
    /// The trigger's logical id.
    pub logical_id: String,
    /// Whether it is deployed.
    pub presence: Presence,
    /// Its properties, resolved (placeholders for deploy-time values).
    pub properties: Value,
    /// The causes of the placeholders in `properties`, by index.
    pub causes: Vec<Cause>,
    /// Its tag, or why not.
    pub prediction: Prediction,
}

impl Image {
    /// The cause behind placeholder `index`.
    pub fn cause(&self, index: usize) -> Option<&Cause> {
        self.causes.get(index)
    }

    /// The resolved value of top-level property `name`, unless it is deploy-time.
    pub fn known(&self, name: &str) -> Option<&Value> {
        self.properties
            .get(name)
            .filter(|v| placeholder(v).is_none())
    }
}

/// The trigger logical ids of `template`, in template order.
pub fn trigger_ids(template: &Value) -> Vec<String> {
    template
        .get("Resources")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(TRIGGER_TYPE))
                .map(|(id, _)| id.clone())
                .collect()
        })
        .unwrap_or_default()
}

pub use cib_trigger::stack_context::repository_attributes;

/// Resolves every image of `template` under `ctx`.
pub fn resolve(template: &Value, ctx: &Context) -> Vec<Image> {
    let mut ctx = ctx.clone();
    repository_attributes(template, &mut ctx);
    let ids = trigger_ids(template);
    let mut images: Vec<Image> = Vec::new();
    // Each round predicts at least one more image, or stops.
    for _ in 0..=ids.len() {
        images = ids
            .iter()
            .map(|id| resolve_one(template, &ctx, id))
            .collect();
        let mut learned = false;
        for image in &images {
            for (key, value) in super::predict::attributes(image) {
                let key = (image.logical_id.clone(), key);
                if let std::collections::btree_map::Entry::Vacant(slot) = ctx.attributes.entry(key)
                {
                    slot.insert(value);
                    learned = true;
                }
            }
        }
        if !learned {
            break;
        }
    }
    images
}

fn resolve_one(template: &Value, ctx: &Context, id: &str) -> Image {
    let resource = template
        .get("Resources")
        .and_then(|r| r.get(id))
        .cloned()
        .unwrap_or_default();
    let mut resolver = Resolver::new(template, ctx);
    let presence = match resource.get("Condition").and_then(Value::as_str) {
        None => Presence::Deployed,
        Some(name) => match resolver.condition(name, 0) {
            Ok(true) => Presence::Deployed,
            Ok(false) => Presence::Absent,
            Err(cause) => Presence::Unknown(cause),
        },
    };
    let properties = resource
        .get("Properties")
        .and_then(|p| resolver.resolve(p))
        .unwrap_or_else(|| json!({}));
    let prediction = predict(&properties);
    let causes = (0..).map_while(|i| resolver.cause(i).cloned()).collect();
    Image {
        logical_id: id.to_owned(),
        presence,
        properties,
        causes,
        prediction,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        let mut c = Context::default();
        for (k, v) in [
            ("AWS::AccountId", "123456789012"),
            ("AWS::Region", "us-east-1"),
            ("AWS::Partition", "aws"),
            ("AWS::URLSuffix", "amazonaws.com"),
        ] {
            c.pseudo.insert(k.into(), v.into());
        }
        c.physical_ids
            .insert("BaseRepo".into(), "cib/base-1".into());
        c.physical_ids.insert("AppRepo".into(), "cib/app-1".into());
        c
    }

    fn image(repo: &str, build_args: Value) -> Value {
        let mut p = cib_trigger::fixtures::sample();
        p.insert("RepositoryName".into(), json!({"Ref": repo}));
        p.insert(
            "RepositoryUri".into(),
            json!({"Fn::GetAtt": [repo, "RepositoryUri"]}),
        );
        p.insert("RepositoryArn".into(), json!({"Fn::GetAtt": [repo, "Arn"]}));
        p.insert("BuildArgs".into(), build_args);
        json!({"Type": TRIGGER_TYPE, "Properties": p})
    }

    #[test]
    fn an_image_built_on_another_is_predicted_from_the_others_tag() {
        let template = json!({"Resources": {
            "App": image("AppRepo", json!({"BASE": {"Fn::GetAtt": ["Base", "ImageUri"]}})),
            "Base": image("BaseRepo", json!({"V": "1"})),
            "BaseRepo": {"Type": "AWS::ECR::Repository"},
            "AppRepo": {"Type": "AWS::ECR::Repository"}
        }});
        let images = resolve(&template, &ctx());
        let tag = |id: &str| match &images
            .iter()
            .find(|i| i.logical_id == id)
            .map(|i| &i.prediction)
        {
            Some(Prediction::Tag { tag, .. }) => tag.clone(),
            other => panic!("{id}: {other:?}"),
        };
        let base = tag("Base");
        let app = images
            .iter()
            .find(|i| i.logical_id == "App")
            .map(|i| i.properties["BuildArgs"]["BASE"].clone());
        assert_eq!(
            app,
            Some(json!(format!(
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/cib/base-1:{base}"
            )))
        );
        assert_eq!(tag("App").len(), 64);
    }

    #[test]
    fn a_false_condition_leaves_the_image_out() {
        let mut img = image("AppRepo", json!({}));
        img["Condition"] = json!("Never");
        let template = json!({"Conditions": {"Never": {"Fn::Equals": ["a", "b"]}},
                              "Resources": {"App": img}});
        assert_eq!(resolve(&template, &ctx())[0].presence, Presence::Absent);
    }
}
