//! `cib package`: local build contexts (`Source: {Directory: ./api}`) become content-named
//! zips in S3, and the template points at them (`Source: {S3Bucket, S3Key}`); local image
//! tarballs (`Source: {ImageTarball: ./web.tar}`) are checked and become content-named tars
//! ([`tarball`]).
//!
//! The template walk and rewrite, the zip and `.dockerignore` are pure ([`archive`],
//! [`dockerignore`]); [`context`] reads the directory and [`upload`] talks to S3.

pub mod archive;
pub mod command;
pub mod context;
pub mod dockerignore;
pub mod tarball;
pub mod upload;

use serde_json::{Value, json};

/// The resource type whose `Source.Directory` is packaged.
pub(crate) const IMAGE_TYPE: &str = "Custom::ContainerImageBuild";

/// One image whose source is a local directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectorySource {
    /// The image's logical id.
    pub logical_id: String,
    /// `Source.Directory` as written (relative to the template's directory, or absolute).
    pub directory: String,
    /// The Dockerfile inside the context (`Dockerfile` unless the image says otherwise).
    pub dockerfile: String,
}

/// Every image of `template` (long form) whose `Source` has the form `form`: its logical
/// ID, its properties and the value of `Source.<form>`.
pub fn images_with_source<'a>(
    template: &'a Value,
    form: &str,
) -> Vec<(&'a String, Option<&'a Value>, &'a Value)> {
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return Vec::new();
    };
    resources
        .iter()
        .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(IMAGE_TYPE))
        .filter_map(|(logical_id, resource)| {
            let properties = resource.get("Properties");
            let value = properties?.get("Source")?.get(form)?;
            Some((logical_id, properties, value))
        })
        .collect()
}

/// Every image of `template` (long form) with `Source: {Directory}`; a `Directory` or
/// `Dockerfile` that is not a plain string is an error naming the resource.
pub fn directory_sources(template: &Value) -> Result<Vec<DirectorySource>, String> {
    let mut sources = Vec::new();
    for (logical_id, properties, directory) in images_with_source(template, "Directory") {
        let directory = directory.as_str().ok_or_else(|| {
            format!("Resources.{logical_id}.Properties.Source.Directory must be a plain string (a path relative to the template)")
        })?;
        let dockerfile = match properties.and_then(|p| p.get("Dockerfile")) {
            None => "Dockerfile",
            Some(value) => value.as_str().ok_or_else(|| {
                format!("Resources.{logical_id}.Properties.Dockerfile must be a plain string when Source is a Directory")
            })?,
        };
        sources.push(DirectorySource {
            logical_id: logical_id.clone(),
            directory: directory.to_owned(),
            dockerfile: dockerfile.to_owned(),
        });
    }
    Ok(sources)
}

/// The S3 key of an archive: `<prefix>/<sha256>.zip` (no prefix: `<sha256>.zip`).
pub fn s3_key(prefix: Option<&str>, sha256: &str) -> String {
    match prefix.map(|p| p.trim_matches('/')) {
        Some(p) if !p.is_empty() => format!("{p}/{sha256}.zip"),
        _ => format!("{sha256}.zip"),
    }
}

/// Points the image `logical_id` at `s3://bucket/key` (its other `Source` keys go).
pub fn rewrite(template: &mut Value, logical_id: &str, bucket: &str, key: &str) {
    if let Some(properties) = template
        .get_mut("Resources")
        .and_then(|r| r.get_mut(logical_id))
        .and_then(|r| r.get_mut("Properties"))
        .and_then(Value::as_object_mut)
    {
        properties.insert("Source".into(), json!({"S3Bucket": bucket, "S3Key": key}));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_directory_sources_with_their_dockerfile() {
        let template = json!({"Resources": {
            "A": {"Type": IMAGE_TYPE, "Properties": {"Source": {"Directory": "./a"}}},
            "B": {"Type": IMAGE_TYPE, "Properties": {"Source": {"Directory": "b"}, "Dockerfile": "docker/Prod"}},
            "C": {"Type": IMAGE_TYPE, "Properties": {"Source": {"S3Bucket": "x", "S3Key": "y"}}},
            "D": {"Type": "AWS::S3::Bucket", "Properties": {"Source": {"Directory": "d"}}}
        }});
        let found = directory_sources(&template).unwrap_or_default();
        assert_eq!(
            found,
            vec![
                DirectorySource {
                    logical_id: "A".into(),
                    directory: "./a".into(),
                    dockerfile: "Dockerfile".into()
                },
                DirectorySource {
                    logical_id: "B".into(),
                    directory: "b".into(),
                    dockerfile: "docker/Prod".into()
                },
            ]
        );
    }

    #[test]
    fn an_intrinsic_directory_is_refused_with_its_path() {
        let template = json!({"Resources": {
            "A": {"Type": IMAGE_TYPE, "Properties": {"Source": {"Directory": {"Ref": "Dir"}}}}
        }});
        let err = directory_sources(&template).err().unwrap_or_default();
        assert!(
            err.contains("Resources.A.Properties.Source.Directory"),
            "{err}"
        );
    }

    #[test]
    fn keys_join_the_prefix_without_doubled_slashes() {
        assert_eq!(s3_key(None, "ab"), "ab.zip");
        assert_eq!(s3_key(Some(""), "ab"), "ab.zip");
        assert_eq!(s3_key(Some("ctx/"), "ab"), "ctx/ab.zip");
        assert_eq!(s3_key(Some("/a/b"), "ab"), "a/b/ab.zip");
    }

    #[test]
    fn rewrite_replaces_the_whole_source() {
        let mut template = json!({"Resources": {
            "A": {"Type": IMAGE_TYPE, "Properties": {"Source": {"Directory": "./a"}, "Platform": "linux/arm64"}}
        }});
        rewrite(&mut template, "A", "bucket", "k.zip");
        assert_eq!(
            template["Resources"]["A"]["Properties"],
            json!({"Source": {"S3Bucket": "bucket", "S3Key": "k.zip"}, "Platform": "linux/arm64"})
        );
    }
}
