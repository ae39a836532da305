//! Packaging local image tarballs (`Source: {ImageTarball: ./web.tar}`): each is read with
//! `cib-registry` (a valid OCI layout or `docker save` archive, or an error naming the
//! resource and the path), its platform checked against `Platform` (or filled in when the
//! image has one platform and the template states none), uploaded under
//! `<prefix>/<sha256 of the file>.tar` unless that key exists, and the source rewritten to
//! `{ImageTarball: {S3Bucket, S3Key}}`.

use std::io::Read;
use std::path::{Path, PathBuf};

use cib_registry::{Tarball, image_platforms, platform_matches};
use cib_trigger::index::PLATFORMS;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::upload::{Destination, human_size};
use crate::aws::s3;

/// One image whose source is a local tarball.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarballSource {
    /// The image's logical id.
    pub logical_id: String,
    /// `Source.ImageTarball` as written (relative to the template's directory, or absolute).
    pub path: String,
    /// `Platform`, when written as a plain string.
    pub platform: Option<String>,
}

/// Every image of `template` (long form) with a local `Source.ImageTarball` path; a path
/// that is neither a plain string nor the S3 form is an error naming the resource.
pub fn tarball_sources(template: &Value) -> Result<Vec<TarballSource>, String> {
    let mut sources = Vec::new();
    for (logical_id, properties, tarball) in super::images_with_source(template, "ImageTarball") {
        let path = match tarball {
            Value::String(path) => path.clone(),
            Value::Object(map) if map.contains_key("S3Bucket") || map.contains_key("S3Key") => {
                continue;
            }
            _ => {
                return Err(format!(
                    "Resources.{logical_id}.Properties.Source.ImageTarball must be a plain string \
                     (a path relative to the template) or {{S3Bucket, S3Key}}"
                ));
            }
        };
        let platform = properties
            .and_then(|p| p.get("Platform"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        sources.push(TarballSource {
            logical_id: logical_id.clone(),
            path,
            platform,
        });
    }
    Ok(sources)
}

/// The S3 key of a tarball: `<prefix>/<sha256>.tar` (no prefix: `<sha256>.tar`).
pub fn s3_key(prefix: Option<&str>, sha256: &str) -> String {
    match prefix.map(|p| p.trim_matches('/')) {
        Some(p) if !p.is_empty() => format!("{p}/{sha256}.tar"),
        _ => format!("{sha256}.tar"),
    }
}

/// The hex SHA-256 of the file at `path`, read in 1 MiB pieces.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// What the template's `Platform` becomes for a tarball with `platforms`: `Ok(Some(p))` to
/// fill in, `Ok(None)` to leave as it is, `Err` when the stated one is not the tarball's.
pub fn platform_to_write(
    stated: Option<&str>,
    platforms: &[String],
) -> Result<Option<String>, String> {
    match stated {
        Some(p) if platform_matches(platforms, p) => Ok(None),
        Some(p) => Err(format!(
            "Platform says {p}, but the tarball's image is for {}",
            if platforms.is_empty() {
                "no stated platform".to_owned()
            } else {
                platforms.join(", ")
            }
        )),
        None => Ok(match platforms {
            [only] => PLATFORMS
                .iter()
                .find(|p| platform_matches(std::slice::from_ref(only), p))
                .map(|p| (*p).to_owned()),
            _ => None,
        }),
    }
}

/// Checks, uploads and rewrites every local tarball of `template`.
pub async fn package(
    client: &aws_sdk_s3::Client,
    template: &mut Value,
    base_dir: &Path,
    destination: &Destination<'_>,
) -> Result<(), String> {
    for source in tarball_sources(template)? {
        let at = format!(
            "Resources.{}.Properties.Source.ImageTarball ({})",
            source.logical_id, source.path
        );
        let path: PathBuf = base_dir.join(&source.path);
        let opened = path.clone();
        let tarball = tokio::task::spawn_blocking(move || Tarball::open(&opened, None))
            .await
            .map_err(|e| format!("{at}: {e}"))?
            .map_err(|e| format!("{at}: not a valid image tarball: {e}"))?;
        let platforms = image_platforms(&tarball, tarball.root())
            .await
            .map_err(|e| format!("{at}: {e}"))?;
        let fill = platform_to_write(source.platform.as_deref(), &platforms)
            .map_err(|e| format!("{at}: {e}"))?;
        let hashed = path.clone();
        let sha = tokio::task::spawn_blocking(move || file_sha256(&hashed))
            .await
            .map_err(|e| format!("{at}: {e}"))?
            .map_err(|e| format!("{at}: {e}"))?;
        let key = s3_key(destination.prefix, &sha);
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let (bucket, owner) = (destination.bucket, destination.owner);
        let uploaded = if s3::exists(client, bucket, owner, &key).await? {
            false
        } else {
            s3::upload_file(client, bucket, owner, &key, &path, |_, _| {}).await?;
            true
        };
        eprintln!(
            "{}: {} (image {}, {}) {} s3://{}/{key}",
            source.logical_id,
            source.path,
            tarball.root().digest,
            human_size(usize::try_from(size).unwrap_or(usize::MAX)),
            if uploaded {
                "uploaded"
            } else {
                "unchanged, already in"
            },
            destination.bucket
        );
        if let Some(properties) = template
            .get_mut("Resources")
            .and_then(|r| r.get_mut(&source.logical_id))
            .and_then(|r| r.get_mut("Properties"))
            .and_then(Value::as_object_mut)
        {
            properties.insert(
                "Source".into(),
                json!({"ImageTarball": {"S3Bucket": destination.bucket, "S3Key": key}}),
            );
            if let Some(platform) = fill {
                properties.insert("Platform".into(), json!(platform));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::IMAGE_TYPE;

    #[test]
    fn local_paths_are_found_and_the_s3_form_is_left_alone() {
        let template = json!({"Resources": {
            "A": {"Type": IMAGE_TYPE, "Properties": {"Source": {"ImageTarball": "./a.tar"}, "Platform": "linux/arm64"}},
            "B": {"Type": IMAGE_TYPE, "Properties": {"Source": {"ImageTarball": {"S3Bucket": "b", "S3Key": "k"}}}},
            "C": {"Type": IMAGE_TYPE, "Properties": {"Source": {"Directory": "c"}}}
        }});
        assert_eq!(
            tarball_sources(&template),
            Ok(vec![TarballSource {
                logical_id: "A".into(),
                path: "./a.tar".into(),
                platform: Some("linux/arm64".into()),
            }])
        );
        let bad = json!({"Resources": {"A": {"Type": IMAGE_TYPE, "Properties": {"Source": {"ImageTarball": {"Ref": "P"}}}}}});
        let e = tarball_sources(&bad).expect_err("intrinsic path");
        assert!(
            e.contains("Resources.A.Properties.Source.ImageTarball"),
            "{e}"
        );
    }

    #[test]
    fn a_single_platform_is_filled_in_and_a_wrong_one_refused() {
        let arm = vec!["linux/arm64/v8".to_owned()];
        assert_eq!(
            platform_to_write(None, &arm),
            Ok(Some("linux/arm64".into()))
        );
        assert_eq!(platform_to_write(Some("linux/arm64"), &arm), Ok(None));
        let e = platform_to_write(Some("linux/amd64"), &arm).expect_err("mismatch");
        assert!(
            e.contains("linux/amd64") && e.contains("linux/arm64/v8"),
            "{e}"
        );
        let both = vec!["linux/amd64".to_owned(), "linux/arm64".to_owned()];
        assert_eq!(platform_to_write(None, &both), Ok(None));
        assert_eq!(
            platform_to_write(None, &["linux/s390x".to_owned()]),
            Ok(None)
        );
    }

    #[test]
    fn keys_are_named_by_content() {
        assert_eq!(s3_key(Some("/t/"), "ab"), "t/ab.tar");
        assert_eq!(s3_key(None, "ab"), "ab.tar");
    }
}
