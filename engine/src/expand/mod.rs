//! Turns a template with `Custom::ContainerImageBuild` resources into plain
//! CloudFormation. One module per generated resource kind; each is a pure function from
//! the validated [`ImageSpec`]s to resources.

pub mod attributes;
pub mod buildspec;
pub mod cache;
pub mod ids;
pub mod log_group;
pub mod multi;
pub mod names;
pub mod packed;
pub mod project;
pub mod pull;
pub mod refs;
pub mod replication;
pub mod repository;
pub mod role;
pub mod shared_condition;
pub mod transform;
pub mod trigger;

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::checks::ids as check_ids;
use crate::finding::Finding;
use crate::options::ExpandOptions;
use crate::params::ParameterValues;
use crate::path::TemplatePath;
use crate::spec::{self, ImageSpec};
use shared_condition::SharedConditions;

/// Name of the provider function the support stack deploys.
pub const DEFAULT_PROVIDER_FUNCTION: &str = "ContainerImageBuild-Provider";

/// An expanded template with the images it was expanded from.
#[derive(Debug, Clone)]
pub struct Expanded {
    /// The expanded template.
    pub template: Value,
    /// The validated images, in template order (a multi-platform image as one image per
    /// platform, `<Id>Amd64`, `<Id>Arm64`).
    pub images: Vec<ImageSpec>,
    /// The multi-platform images themselves (each written as its index resource), with
    /// their platforms.
    pub indexes: Vec<(ImageSpec, Vec<crate::platform::Platform>)>,
}

/// The ServiceToken the triggers carry.
pub fn service_token(options: &ExpandOptions) -> Value {
    match &options.provider_arn {
        Some(arn) => json!(arn),
        None => json!({"Fn::Sub": format!(
            "arn:${{AWS::Partition}}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:{DEFAULT_PROVIDER_FUNCTION}"
        )}),
    }
}

/// Expands every image of `template`; returns all error findings when any image is invalid.
pub fn expand_template(
    template: &Value,
    options: &ExpandOptions,
) -> Result<Expanded, Vec<Finding>> {
    let Value::Object(root) = template else {
        return Err(vec![Finding::error(
            check_ids::STRUCTURE,
            None,
            "",
            "the template must be a mapping at its top level",
            "start the template with keys such as AWSTemplateFormatVersion and Resources",
        )]);
    };
    let resources = match root.get("Resources") {
        Some(Value::Object(resources)) => resources,
        Some(_) => {
            return Err(vec![Finding::error(
                check_ids::STRUCTURE,
                None,
                "Resources",
                "Resources must be a mapping of logical ID to resource",
                "write Resources as a mapping",
            )]);
        }
        None => {
            return Err(vec![Finding::error(
                check_ids::STRUCTURE,
                None,
                "Resources",
                "the template has no Resources section",
                "add a Resources section",
            )]);
        }
    };
    let parameters = ParameterValues::new(template, options);
    let mut images = Vec::new();
    let mut indexes = Vec::new();
    let mut findings = Vec::new();
    // A multi-platform image becomes one image per platform, listed after it.
    let mut split = Map::new();
    for (id, resource) in resources {
        split.insert(id.clone(), resource.clone());
        let Some(platforms) = multi::platforms(resource)
            .filter(|_| resource.get("Type").and_then(Value::as_str) == Some(spec::RESOURCE_TYPE))
        else {
            continue;
        };
        for platform in &platforms {
            let child = multi::platform_id(id, *platform);
            if resources.contains_key(&child) {
                findings.push(Finding::error(
                    check_ids::ID_COLLISION,
                    Some(id),
                    TemplatePath::resource(&child),
                    format!("the {} build of multi-platform image `{id}` is generated as `{child}`, which the template already uses", platform.docker_name()),
                    format!("rename `{child}`"),
                ));
            }
            split.insert(child, multi::platform_resource(id, resource, *platform));
        }
        match spec::parse_image(
            id,
            &multi::as_single(resource, &platforms),
            &parameters,
            options,
        ) {
            Ok(image) => indexes.push((image, platforms)),
            Err(errors) => findings.extend(errors),
        }
    }
    let resources = &split;
    for (id, resource) in resources {
        if indexes.iter().any(|(parent, _)| &parent.logical_id == id) {
            continue;
        }
        let Value::Object(_) = resource else {
            findings.push(Finding::error(
                check_ids::STRUCTURE,
                Some(id),
                TemplatePath::resource(id),
                "a resource must be a mapping with a Type",
                "write the resource as a mapping with Type and Properties",
            ));
            continue;
        };
        if resource.get("Type").and_then(Value::as_str) != Some(spec::RESOURCE_TYPE) {
            continue;
        }
        match spec::parse_image(id, resource, &parameters, options) {
            Ok(image) => images.push(image),
            Err(errors) => findings.extend(errors),
        }
    }
    if !findings.is_empty() {
        return Err(findings);
    }
    let mut out = root.clone();
    transform::remove_own_transform(&mut out);
    if images.is_empty() {
        return Ok(Expanded {
            template: Value::Object(out),
            images,
            indexes,
        });
    }
    let rules = replication::plan(&images);
    // Tarball images are pushed by the provider: no project, role or log group for them.
    let built: Vec<ImageSpec> = images.iter().filter(|i| !i.is_tarball()).cloned().collect();
    let needs_cache = cache::needed(&built);
    let mut generated = ids::generated(&images, !rules.is_empty(), needs_cache);
    for (parent, _) in &indexes {
        generated.push((
            ids::repository(&parent.logical_id),
            Some(parent.logical_id.clone()),
        ));
    }
    let collisions = ids::collisions(resources, &generated);
    if !collisions.is_empty() {
        return Err(collisions);
    }
    let token = service_token(options);
    let projects = ids::projects(&built);
    let image_ids: BTreeSet<String> = images
        .iter()
        .chain(indexes.iter().map(|(parent, _)| parent))
        .map(|i| i.logical_id.clone())
        .collect();

    let mut expanded = Map::new();
    for (id, resource) in resources {
        if let Some((parent, platforms)) = indexes.iter().find(|(p, _)| &p.logical_id == id) {
            let original = resource.as_object().cloned().unwrap_or_default();
            expanded.insert(
                id.clone(),
                Value::Object(multi::index_resource(parent, platforms, &token, &original)),
            );
            let everything: Vec<ImageSpec> = images
                .iter()
                .chain(indexes.iter().map(|(p, _)| p))
                .cloned()
                .collect();
            if let Some(repo) = repository::resource(parent, &everything) {
                expanded.insert(ids::repository(id), Value::Object(repo));
            }
            continue;
        }
        let Some(image) = images.iter().find(|i| &i.logical_id == id) else {
            expanded.insert(id.clone(), resource.clone());
            continue;
        };
        let project_id = projects
            .iter()
            .find(|(env, _)| *env == image.environment)
            .map(|(_, id)| id.as_str())
            .unwrap_or(ids::PROJECT_PREFIX);
        let original = resource.as_object().cloned().unwrap_or_default();
        expanded.insert(
            id.clone(),
            Value::Object(trigger::resource(image, project_id, &token, &original)),
        );
        if let Some(repo) = repository::resource(image, &images) {
            expanded.insert(ids::repository(id), Value::Object(repo));
        }
        if let Some(group) = log_group::resource(image) {
            expanded.insert(ids::log_group(id), Value::Object(group));
        }
    }
    let mut shared = SharedConditions::new(root.get("Conditions"));
    let mut cache_condition = None;
    if needs_cache {
        let mut cache = cache::resource();
        cache_condition = shared.for_users(
            ids::CACHE,
            built.iter().filter(|i| cache::uses_registry_cache(i)),
        );
        shared_condition::apply(&mut cache, cache_condition.as_ref());
        expanded.insert(ids::CACHE.to_owned(), Value::Object(cache));
    }
    if !built.is_empty() {
        let condition = shared.for_users(ids::ROLE, &built);
        // The role outlives the cache when some built image uses no cache: its cache
        // statement then names the cache only while the cache exists.
        let cache_only_if = cache_condition
            .as_deref()
            .filter(|c| Some(*c) != condition.as_deref());
        let mut role = role::resource(&built, cache_only_if);
        shared_condition::apply(&mut role, condition.as_ref());
        expanded.insert(ids::ROLE.to_owned(), Value::Object(role));
        let mut group = log_group::template_resource();
        shared_condition::apply(&mut group, condition.as_ref());
        expanded.insert(ids::LOG_GROUP.to_owned(), Value::Object(group));
    }
    for (env, id) in &projects {
        let timeout = images
            .iter()
            .filter(|i| !i.is_tarball() && &i.environment == env)
            .map(|i| i.timeout_minutes)
            .max()
            .unwrap_or(spec::DEFAULT_TIMEOUT_MINUTES);
        let scan = images
            .iter()
            .any(|i| &i.environment == env && i.scan.is_some());
        let registries = pull::registries(built.iter().filter(|i| &i.environment == env));
        let mut resource = project::resource(id, env, timeout, scan, &registries);
        let users = built.iter().filter(|i| &i.environment == env);
        shared_condition::apply(&mut resource, shared.for_users(id, users).as_ref());
        expanded.insert(id.clone(), Value::Object(resource));
    }
    if let Some(mut resource) = replication::resource(&rules, &token) {
        let users = images.iter().filter(|i| !i.replica_regions.is_empty());
        let condition = shared.for_users(ids::REPLICATION, users);
        shared_condition::apply(&mut resource, condition.as_ref());
        expanded.insert(ids::REPLICATION.to_owned(), Value::Object(resource));
    }
    out.insert("Resources".into(), Value::Object(expanded));
    shared.write(&mut out);
    // Every section that may refer to a resource, the images' own properties included
    // (an image built on another image gets its URI, not the trigger's physical ID).
    for (key, value) in out.iter_mut() {
        if key != "Parameters" && key != "Mappings" {
            refs::rewrite(value, &image_ids);
        }
    }
    Ok(Expanded {
        template: Value::Object(out),
        images,
        indexes,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::{ExpandOptions, expand, template};

    #[test]
    fn an_image_built_on_another_image_gets_its_uri_not_the_trigger_id() {
        let text = "Resources:\n  Base:\n    Type: Custom::ContainerImageBuild\n    Properties:\n      Source: {S3Bucket: b, S3Key: base.zip}\n  App:\n    Type: Custom::ContainerImageBuild\n    Properties:\n      Source: {S3Bucket: b, S3Key: app.zip}\n      BuildArgs:\n        BASE_IMAGE: !Ref Base\n        BASE_TAG: !Sub '${Base}'\n";
        let (value, _) = template::parse(text.as_bytes()).expect("parses");
        let outcome = expand(&value, &ExpandOptions::default());
        let expanded = outcome.template.expect("expands");
        let args = &expanded["Resources"]["App"]["Properties"]["BuildArgs"];
        assert_eq!(
            args["BASE_IMAGE"],
            json!({"Fn::GetAtt": ["Base", "ImageUri"]})
        );
        assert_eq!(args["BASE_TAG"], json!({"Fn::Sub": "${Base.ImageUri}"}));
    }
}
