//! Packaging a parsed template: zip each local context, upload what S3 does not have yet,
//! rewrite the template.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{archive, context, directory_sources, rewrite, s3_key};
use crate::aws::s3;

/// Where packaged contexts go.
#[derive(Debug, Clone)]
pub struct Destination<'a> {
    /// The bucket.
    pub bucket: &'a str,
    /// The account that must own it (every S3 call passes it as `ExpectedBucketOwner`).
    pub owner: &'a str,
    /// Optional key prefix.
    pub prefix: Option<&'a str>,
    /// Upload what S3 lacks; when false, only the keys are computed (`cib plan` changes
    /// nothing).
    pub upload: bool,
}

/// Packages every `Source.Directory` and local `Source.ImageTarball` of `template` (resolved
/// against `base_dir`), uploads the archives S3 does not have yet, and returns the rewritten
/// template. Progress goes to
/// standard error.
pub async fn package(
    client: &aws_sdk_s3::Client,
    template: &Value,
    base_dir: &Path,
    destination: &Destination<'_>,
) -> Result<Value, String> {
    let sources = directory_sources(template)?;
    let mut packaged = template.clone();
    // The same directory used by several images is zipped and uploaded once.
    let mut done: BTreeMap<(PathBuf, String), String> = BTreeMap::new();
    for source in &sources {
        let dir = base_dir.join(&source.directory);
        let cache_key = (dir.clone(), source.dockerfile.clone());
        let key = match done.get(&cache_key) {
            Some(key) => key.clone(),
            None => {
                let entries = context::read(&dir, &source.dockerfile)
                    .map_err(|e| format!("{}: {e}", source.logical_id))?;
                let archive =
                    archive::build(&entries).map_err(|e| format!("{}: {e}", source.logical_id))?;
                let key = s3_key(destination.prefix, &archive.sha256);
                let size = archive.bytes.len();
                if !destination.upload {
                    done.insert(cache_key, key.clone());
                    rewrite(&mut packaged, &source.logical_id, destination.bucket, &key);
                    continue;
                }
                let uploaded = s3::upload_if_absent(
                    client,
                    destination.bucket,
                    destination.owner,
                    &key,
                    &archive.bytes,
                    |sent, total| {
                        if total >= s3::MULTIPART_THRESHOLD {
                            progress(&key, sent, total);
                        }
                    },
                )
                .await?;
                let verb = if uploaded {
                    "uploaded"
                } else {
                    "unchanged, already in"
                };
                eprintln!(
                    "{}: {} ({} files, {}) {verb} s3://{}/{key}",
                    source.logical_id,
                    source.directory,
                    entries.len(),
                    human_size(size),
                    destination.bucket
                );
                done.insert(cache_key, key.clone());
                key
            }
        };
        rewrite(&mut packaged, &source.logical_id, destination.bucket, &key);
    }
    super::tarball::package(client, &mut packaged, base_dir, destination).await?;
    Ok(packaged)
}

/// One progress line for a large upload, rewritten in place.
fn progress(key: &str, sent: usize, total: usize) {
    let percent = sent.saturating_mul(100) / total.max(1);
    let end = if sent >= total { "\n" } else { "" };
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "\r  uploading {key}: {} of {} ({percent}%){end}",
        human_size(sent),
        human_size(total)
    );
    let _ = err.flush();
}

/// `1536` → `1.5 KiB`.
pub fn human_size(bytes: usize) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::human_size;

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(human_size(12), "12 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(20 * 1024 * 1024), "20.0 MiB");
    }
}
