//! S3: does a key exist, and upload bytes (multipart with progress when large).
//!
//! Every call but CreateBucket names `owner`, the account that must own the bucket
//! (`ExpectedBucketOwner`): bucket names are global, and S3 answers 403 instead of acting
//! when another account owns a bucket of that name
//! (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html).

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

use super::describe;

/// Objects at least this large go up in parts, with progress.
pub const MULTIPART_THRESHOLD: usize = 16 * 1024 * 1024;
/// Size of one part of a multipart upload.
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// True when `bucket` has `key` (HeadObject); a missing key is `false`, anything else an error.
pub async fn exists(client: &Client, bucket: &str, owner: &str, key: &str) -> Result<bool, String> {
    match client
        .head_object()
        .bucket(bucket)
        .expected_bucket_owner(owner)
        .key(key)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(err) => {
            if err
                .as_service_error()
                .is_some_and(aws_sdk_s3::operation::head_object::HeadObjectError::is_not_found)
            {
                Ok(false)
            } else {
                Err(format!(
                    "cannot look up s3://{bucket}/{key}: {}",
                    describe(&err)
                ))
            }
        }
    }
}

/// True when the bucket exists and account `owner` owns it; false when no bucket has that
/// name. A bucket of that name owned by another account (or one `owner` may not reach) is
/// an error that says so.
pub async fn bucket_exists(client: &Client, bucket: &str, owner: &str) -> Result<bool, String> {
    match client
        .head_bucket()
        .bucket(bucket)
        .expected_bucket_owner(owner)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(err) => {
            let status = err.raw_response().map(|r| r.status().as_u16());
            let missing = err
                .as_service_error()
                .is_some_and(aws_sdk_s3::operation::head_bucket::HeadBucketError::is_not_found)
                || status == Some(404);
            if missing {
                Ok(false)
            } else if status == Some(403) {
                Err(format!(
                    "bucket {bucket} exists but account {owner} does not own it (S3 answered \
                     403 to HeadBucket with ExpectedBucketOwner {owner}): bucket names are \
                     global, so another account may have created it first, and nothing is \
                     read from or written to it; name a bucket of your own with --s3-bucket"
                ))
            } else {
                Err(format!(
                    "cannot look up bucket {bucket}: {}",
                    describe(&err)
                ))
            }
        }
    }
}

/// Creates a bucket in `region` (no location constraint in us-east-1, as S3 requires).
pub async fn create_bucket(client: &Client, bucket: &str, region: &str) -> Result<(), String> {
    let mut request = client.create_bucket().bucket(bucket);
    if region != "us-east-1" {
        let constraint = aws_sdk_s3::types::BucketLocationConstraint::from(region);
        request = request.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(constraint)
                .build(),
        );
    }
    request
        .send()
        .await
        .map(|_| ())
        .map_err(|e| format!("cannot create bucket {bucket}: {}", describe(&e)))
}

/// Uploads `bytes` to `bucket`/`key`; large objects go up in parts and `progress` is told
/// the bytes sent so far and the total after each part.
pub async fn upload(
    client: &Client,
    bucket: &str,
    owner: &str,
    key: &str,
    bytes: &[u8],
    progress: impl FnMut(usize, usize),
) -> Result<(), String> {
    let read = |offset: usize, len: usize| Ok(bytes[offset..offset + len].to_vec());
    upload_parts(client, bucket, owner, key, bytes.len(), read, progress).await
}

/// Uploads the file at `path` like [`upload`], one part in memory at a time (an image
/// tarball may be larger than memory).
pub async fn upload_file(
    client: &Client,
    bucket: &str,
    owner: &str,
    key: &str,
    path: &std::path::Path,
    progress: impl FnMut(usize, usize),
) -> Result<(), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let size = file
        .metadata()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    let size = usize::try_from(size).map_err(|_| format!("{}: too large", path.display()))?;
    let read = |offset: usize, len: usize| {
        let mut buf = vec![0u8; len];
        std::os::unix::fs::FileExt::read_exact_at(&file, &mut buf, offset as u64)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(buf)
    };
    upload_parts(client, bucket, owner, key, size, read, progress).await
}

/// Uploads `total` bytes that `read(offset, len)` gives, in one PUT below
/// [`MULTIPART_THRESHOLD`], else in [`PART_SIZE`] parts.
async fn upload_parts(
    client: &Client,
    bucket: &str,
    owner: &str,
    key: &str,
    total: usize,
    read: impl Fn(usize, usize) -> Result<Vec<u8>, String>,
    mut progress: impl FnMut(usize, usize),
) -> Result<(), String> {
    let fail = |e: String| format!("cannot upload s3://{bucket}/{key}: {e}");
    if total < MULTIPART_THRESHOLD {
        client
            .put_object()
            .bucket(bucket)
            .expected_bucket_owner(owner)
            .key(key)
            .body(ByteStream::from(read(0, total)?))
            .send()
            .await
            .map_err(|e| fail(describe(&e)))?;
        progress(total, total);
        return Ok(());
    }
    let started = client
        .create_multipart_upload()
        .bucket(bucket)
        .expected_bucket_owner(owner)
        .key(key)
        .send()
        .await
        .map_err(|e| fail(describe(&e)))?;
    let upload_id = started
        .upload_id()
        .ok_or_else(|| fail("no upload id".into()))?
        .to_owned();
    let mut parts = Vec::new();
    let mut sent = 0;
    for (index, offset) in (0..total).step_by(PART_SIZE).enumerate() {
        let number = i32::try_from(index + 1).map_err(|_| fail("too many parts".into()))?;
        let len = PART_SIZE.min(total - offset);
        let result = match read(offset, len) {
            Ok(chunk) => client
                .upload_part()
                .bucket(bucket)
                .expected_bucket_owner(owner)
                .key(key)
                .upload_id(&upload_id)
                .part_number(number)
                .body(ByteStream::from(chunk))
                .send()
                .await
                .map_err(|e| describe(&e)),
            Err(e) => Err(e),
        };
        let part = match result {
            Ok(part) => part,
            Err(e) => {
                let _ = client
                    .abort_multipart_upload()
                    .bucket(bucket)
                    .expected_bucket_owner(owner)
                    .key(key)
                    .upload_id(&upload_id)
                    .send()
                    .await;
                return Err(fail(e));
            }
        };
        parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(part.e_tag().map(str::to_owned))
                .build(),
        );
        sent += len;
        progress(sent, total);
    }
    client
        .complete_multipart_upload()
        .bucket(bucket)
        .expected_bucket_owner(owner)
        .key(key)
        .upload_id(&upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .map_err(|e| fail(describe(&e)))?;
    Ok(())
}

/// Uploads `bytes` under `key` unless the key is already there; true when it uploaded.
pub async fn upload_if_absent(
    client: &Client,
    bucket: &str,
    owner: &str,
    key: &str,
    bytes: &[u8],
    progress: impl FnMut(usize, usize),
) -> Result<bool, String> {
    if exists(client, bucket, owner, key).await? {
        return Ok(false);
    }
    upload(client, bucket, owner, key, bytes, progress).await?;
    Ok(true)
}
