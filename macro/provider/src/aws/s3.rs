//! S3: the image tarball of a tarball trigger, its size first (`HeadObject`), then its
//! bytes streamed into a local file (`GetObject`), pinned to what `HeadObject` saw.

use std::path::Path;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::ProvideErrorMetadata;
use tokio::io::AsyncWriteExt;

use crate::error::ProviderError;
use crate::flows::tarball::Location;

/// What `HeadObject` said about the tarball.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHead {
    /// Its length in bytes.
    pub size: u64,
    /// Its ETag, which the download is pinned to when no version is.
    pub etag: Option<String>,
}

fn aws_error<E>(operation: &'static str, err: &aws_sdk_s3::error::SdkError<E>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = match (err.code(), err.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => aws_sdk_s3::error::DisplayErrorContext(err).to_string(),
    };
    ProviderError::Aws { operation, message }
}

/// The object's size and ETag. Every S3 call names `owner`, the account that must own the
/// bucket (`ExpectedBucketOwner`: S3 answers 403 when another account owns it, so a bucket
/// of the same name in another account is never read).
pub async fn head_object(
    client: &Client,
    location: &Location,
    owner: &str,
) -> Result<ObjectHead, ProviderError> {
    let out = client
        .head_object()
        .bucket(&location.bucket)
        .expected_bucket_owner(owner)
        .key(&location.key)
        .set_version_id(location.version.clone())
        .send()
        .await
        .map_err(|e| {
            let status = e.raw_response().map(|r| r.status().as_u16());
            match status {
                // S3 answers 403 for a missing object when the reader may not list the
                // bucket (the provider's role may not), and for a bucket of another
                // account (the owner condition): one cause is as likely as the other.
                Some(code @ (403 | 404)) => ProviderError::Aws {
                    operation: "S3 HeadObject",
                    message: format!(
                        "the object does not exist, or the provider may not read it (HTTP \
                         {code}; S3 answers 403 for a missing object to a reader without \
                         s3:ListBucket, and for a bucket another account owns)"
                    ),
                },
                _ => aws_error("S3 HeadObject", &e),
            }
        })?;
    let size = out
        .content_length()
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| ProviderError::Aws {
            operation: "S3 HeadObject",
            message: "the answer has no Content-Length".into(),
        })?;
    Ok(ObjectHead {
        size,
        etag: out.e_tag().map(str::to_owned),
    })
}

/// Streams the object into `path` (never held whole in memory), pinned to the version, or
/// else the ETag, that `head` saw; fails when the bytes written are not `head.size`. The
/// bucket must belong to `owner`.
pub async fn download(
    client: &Client,
    location: &Location,
    owner: &str,
    head: &ObjectHead,
    path: &Path,
) -> Result<(), ProviderError> {
    let mut call = client
        .get_object()
        .bucket(&location.bucket)
        .expected_bucket_owner(owner)
        .key(&location.key)
        .set_version_id(location.version.clone());
    if location.version.is_none() {
        call = call.set_if_match(head.etag.clone());
    }
    let out = call
        .send()
        .await
        .map_err(|e| aws_error("S3 GetObject", &e))?;
    let io = |e: std::io::Error| ProviderError::Aws {
        operation: "S3 GetObject",
        message: format!("writing {}: {e}", path.display()),
    };
    let mut file = tokio::fs::File::create(path).await.map_err(io)?;
    let mut body = out.body;
    let mut written: u64 = 0;
    while let Some(chunk) = body.try_next().await.map_err(|e| ProviderError::Aws {
        operation: "S3 GetObject",
        message: format!("reading the body: {e}"),
    })? {
        written += chunk.len() as u64;
        if written > head.size {
            return Err(ProviderError::Aws {
                operation: "S3 GetObject",
                message: format!(
                    "the body is longer than the {} bytes HeadObject gave",
                    head.size
                ),
            });
        }
        file.write_all(&chunk).await.map_err(io)?;
    }
    file.flush().await.map_err(io)?;
    if written != head.size {
        return Err(ProviderError::Aws {
            operation: "S3 GetObject",
            message: format!(
                "the body ended after {written} of the {} bytes HeadObject gave",
                head.size
            ),
        });
    }
    Ok(())
}
