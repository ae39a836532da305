//! Tarball images: a trigger whose `Source` is an `ImageTarball` in S3 is pushed by the
//! provider itself with `cib-registry`, no build.
//!
//! The flow, all bounded by the invocation's deadline less [`ANSWER_MARGIN`]:
//! 1. the bucket must be the support stack's artifact bucket and the repository a generated
//!    one (the provider's IAM allows nothing else);
//! 2. `HeadObject`: the object's size must fit the spool ([`Settings::tarball_max_bytes`],
//!    the Lambda's ephemeral storage), checked before any byte is downloaded;
//! 3. `GetObject` (pinned to the version or ETag `HeadObject` saw) into a file under
//!    [`Settings::spool_dir`], deleted when the request is done;
//! 4. the tarball is opened (digests, paths and sizes checked) and its platform checked
//!    against `Platform`, when the template states one;
//! 5. the tag comes from the manifest digest ([`cib_trigger::tarball_tag`]); a tag already
//!    in the repository (and every replica region) answers at once, nothing pushed;
//! 6. otherwise blobs, manifests and, last, the tag are pushed; replica regions that lack the
//!    tag get it by copy from the home region ([`crate::flows::backfill`]);
//! 7. SUCCESS with the same attributes as a built image.
//!
//! The tarball is spooled to disk rather than read with ranged GETs because its index and
//! manifests may be anywhere in the tar and a `docker save` archive's layers are each read
//! twice (hashed when opened, then pushed): one sequential download is cheaper than many
//! ranged requests, and memory stays bounded (the registry streams blobs from the file).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use cib_registry::{
    CopyOptions, EcrRepository, Tag, Tarball, copy_image, image_platforms, platform_matches,
};
use serde_json::{Value, json};

use crate::aws::s3::{self, ObjectHead};
use crate::error::ProviderError;
use crate::event::CfnRequest;
use crate::flows::backfill::{ANSWER_MARGIN, MIN_COPY_TIME, Presence};
use crate::log::LogContext;
use crate::properties::{Source, TriggerProperties};
use crate::provider::Provider;
use crate::response::Status;
use crate::response::{answer_for, image_attributes};
use crate::settings::Settings;

/// Where the tarball is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// Version, when pinned.
    pub version: Option<String>,
}

impl Location {
    /// The location a tarball trigger names.
    pub fn of(props: &TriggerProperties) -> Option<Location> {
        match &props.source {
            Source::ImageTarball {
                bucket,
                key,
                version,
            } => Some(Location {
                bucket: bucket.clone(),
                key: key.clone(),
                version: version.clone(),
            }),
            _ => None,
        }
    }

    /// `s3://bucket/key[?versionId=v]`, for reasons and logs.
    pub fn describe(&self) -> String {
        match &self.version {
            Some(v) => format!("s3://{}/{}?versionId={v}", self.bucket, self.key),
            None => format!("s3://{}/{}", self.bucket, self.key),
        }
    }
}

/// Why the provider will not read `location` into `repository`, before any call: the
/// bucket is not the one it may read, or the repository is not one it may write.
pub fn refusal(
    settings: &Settings,
    location: &Location,
    repository: &str,
    stack_id: &str,
) -> Option<String> {
    match &settings.tarball_bucket {
        None => {
            return Some(format!(
                "{}: this provider has no artifact bucket configured (CIB_TARBALL_BUCKET), so it \
                 reads no image tarball; update the support stack (`cib bootstrap`)",
                location.describe()
            ));
        }
        Some(allowed) if allowed != &location.bucket => {
            return Some(format!(
                "property Source.ImageTarball.S3Bucket: the provider reads image tarballs only \
                 from the support stack's artifact bucket `{allowed}`, not `{}` (so a stack \
                 cannot make it read objects its deployer could not); upload the tarball there \
                 (`cib package` does it for a local ImageTarball path)",
                location.bucket
            ));
        }
        Some(_) => {}
    }
    crate::gate::repository::stack_repository(repository, stack_id).err()
}

/// Why an object of `size` bytes cannot be spooled under a limit of `max` bytes.
pub fn too_large(location: &Location, size: u64, max: u64) -> Option<String> {
    (size > max).then(|| {
        format!(
            "{} is {size} bytes, more than the {max} bytes of the provider's ephemeral storage \
             it is read into (CIB_TARBALL_MAX_MB; the support stack's ProviderFunction \
             EphemeralStorage, at most 10240 MB); nothing was downloaded or pushed: push it \
             with `cib push` instead, or make the image smaller",
            location.describe()
        )
    })
}

/// What the platform check says: `Err` is the FAILED reason.
pub fn check_platform(declared: &str, platforms: &[String]) -> Result<(), String> {
    if declared.is_empty() || platform_matches(platforms, declared) {
        return Ok(());
    }
    let found = if platforms.is_empty() {
        "no platform".to_owned()
    } else {
        platforms.join(", ")
    };
    Err(format!(
        "property Platform: the template says {declared}, but the tarball's image is for \
         {found}; nothing was pushed: fix Platform (or leave it out) or the tarball"
    ))
}

impl Provider {
    /// Handles a trigger Create/Update whose source is an image tarball; answers exactly once.
    pub(crate) async fn handle_tarball(
        &self,
        request: &CfnRequest,
        props: &TriggerProperties,
        physical_id: &str,
        log: &LogContext,
        deadline: Instant,
    ) -> Result<Value, ProviderError> {
        // The tarball object and the repository are the stack's choice, before any read.
        if let Err(refusal) = self.verify_content(request).await {
            return refusal.outcome(log);
        }
        let outcome = match self
            .push_tarball_image(props, &request.stack_id, log, deadline)
            .await
        {
            Ok((tag, digest)) => {
                let mut ok = answer_for(request, physical_id, Status::Success, String::new());
                ok.data = image_attributes(props, &tag, &digest, &self.clients.home_region);
                ok
            }
            Err(reason) => answer_for(request, physical_id, Status::Failed, reason),
        };
        self.answer(log, &request.response_url, outcome).await
    }

    /// Reads, checks and pushes the tarball; `Ok((tag, digest))` or the FAILED reason.
    async fn push_tarball_image(
        &self,
        props: &TriggerProperties,
        stack_id: &str,
        log: &LogContext,
        deadline: Instant,
    ) -> Result<(String, String), String> {
        let Some(location) = Location::of(props) else {
            return Err("property Source: not an ImageTarball".to_owned());
        };
        if let Some(reason) = refusal(&self.settings, &location, &props.repository_name, stack_id) {
            return Err(reason);
        }
        let until = deadline.checked_sub(ANSWER_MARGIN);
        let time_left = until.and_then(|t| t.checked_duration_since(Instant::now()));
        let Some(until) = until.filter(|_| time_left.is_some_and(|t| t >= MIN_COPY_TIME)) else {
            return Err(format!(
                "{}: too little time left in this invocation to push it (at least {} s needed \
                 before the {} s kept to answer); nothing was pushed",
                location.describe(),
                MIN_COPY_TIME.as_secs(),
                ANSWER_MARGIN.as_secs()
            ));
        };
        let bounded = tokio::time::timeout_at(
            tokio::time::Instant::from_std(until),
            self.spool_and_push(props, stack_id, &location, log, deadline),
        );
        match bounded.await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!(
                "{} did not finish within this invocation ({} s are kept to answer, of the \
                 provider's 900 s): nothing was tagged; uploaded blobs are kept, so a retry \
                 resumes; a tarball this large is better pushed with `cib push`",
                location.describe(),
                ANSWER_MARGIN.as_secs()
            )),
        }
    }

    async fn spool_and_push(
        &self,
        props: &TriggerProperties,
        stack_id: &str,
        location: &Location,
        log: &LogContext,
        deadline: Instant,
    ) -> Result<(String, String), String> {
        let where_ = location.describe();
        // The artifact bucket is the support stack's: the stack's own account owns it.
        let owner = crate::ids::account_of(stack_id).unwrap_or_default();
        let head: ObjectHead = s3::head_object(&self.clients.s3, location, owner)
            .await
            .map_err(|e| format!("{where_}: {e}; nothing was pushed"))?;
        if let Some(reason) = too_large(location, head.size, self.settings.tarball_max_bytes) {
            return Err(reason);
        }
        let spool = tempfile::Builder::new()
            .prefix("cib-tarball-")
            .suffix(".tar")
            .tempfile_in(&self.settings.spool_dir)
            .map_err(|e| {
                format!(
                    "{where_}: cannot create a file in {}: {e}",
                    self.settings.spool_dir.display()
                )
            })?;
        let started = Instant::now();
        s3::download(&self.clients.s3, location, owner, &head, spool.path())
            .await
            .map_err(|e| format!("{where_}: {e}; nothing was pushed"))?;
        log.info(
            "tarball downloaded",
            json!({"object": where_, "bytes": head.size,
                   "seconds": started.elapsed().as_secs_f64()}),
        );
        let tarball = open(spool.path(), &where_).await?;
        let root = tarball.root().clone();
        let platforms = image_platforms(&tarball, &root)
            .await
            .map_err(|e| format!("{where_}: {e}; nothing was pushed"))?;
        check_platform(&props.platform, &platforms)?;
        let digest = root.digest.to_string();
        let tag = cib_trigger::tarball_tag(props, &digest).map_err(|e| e.to_string())?;
        match self.presence(props, &tag).await {
            Err(e) => {
                return Err(format!(
                    "cannot tell whether {}:{tag} already exists, so nothing was pushed: {e}",
                    props.repository_name
                ));
            }
            Ok(Presence::Everywhere { digest: existing }) if existing == digest => {
                log.info(
                    "tarball already pushed; nothing to do",
                    json!({"tag": tag, "digest": digest}),
                );
                return Ok((tag, digest));
            }
            Ok(Presence::MissingInReplicas {
                digest: existing,
                missing,
            }) if existing == digest => {
                self.backfill(props, stack_id, (&tag, &digest), &missing, deadline, log)
                    .await?;
                return Ok((tag, digest));
            }
            Ok(Presence::Mismatch {
                region,
                home_digest,
                replica_digest,
            }) => {
                return Err(format!(
                    "{}:{tag} is {home_digest} in {} but {replica_digest} in {region}; a tag never \
                     moves, so nothing was pushed: delete the image in {region} and retry",
                    props.repository_name, self.clients.home_region
                ));
            }
            Ok(Presence::Everywhere { digest: other })
            | Ok(Presence::MissingInReplicas { digest: other, .. })
                if props.image_tag.is_none() =>
            {
                return Err(format!(
                    "{}:{tag} names {other}, not the tarball's {digest}, though the tag is made \
                     from that digest; nothing was pushed: delete the image and retry",
                    props.repository_name
                ));
            }
            // Absent, or a fixed ImageTag that names an earlier image: push (moves the tag).
            Ok(_) => {}
        }
        let destination = EcrRepository::new(self.clients.ecr.clone(), &props.repository_name);
        let options = CopyOptions {
            tag: Tag::Named(tag.clone()),
            ..CopyOptions::default()
        };
        let report = copy_image(&tarball, &destination, "", &options)
            .await
            .map_err(|e| {
                format!(
                    "pushing {where_} into {} failed: {e}; nothing was tagged",
                    props.repository_name
                )
            })?;
        log.info(
            "tarball pushed",
            json!({"tag": tag, "digest": digest, "blobsUploaded": report.blobs_uploaded,
                   "bytesUploaded": report.bytes_uploaded, "manifests": report.manifests}),
        );
        if !props.replica_regions.is_empty() {
            self.tarball_replicas(props, stack_id, &tag, &digest, deadline, log)
                .await?;
        }
        Ok((tag, digest))
    }

    /// After a push: replica regions that lack the tag get it by copy (same digest).
    async fn tarball_replicas(
        &self,
        props: &TriggerProperties,
        stack_id: &str,
        tag: &str,
        digest: &str,
        deadline: Instant,
        log: &LogContext,
    ) -> Result<(), String> {
        match self.presence(props, tag).await {
            Ok(Presence::Everywhere { .. }) => Ok(()),
            Ok(Presence::MissingInReplicas { missing, .. }) => {
                self.backfill(props, stack_id, (tag, digest), &missing, deadline, log)
                    .await
            }
            Ok(Presence::Mismatch {
                region,
                replica_digest,
                ..
            }) => Err(format!(
                "{}:{tag} was pushed as {digest}, but {region} holds {replica_digest} under that \
                 tag; delete the image in {region} and retry",
                props.repository_name
            )),
            Ok(Presence::MissingAtHome { .. }) => Err(format!(
                "{}:{tag} was pushed but is not found in {}; retry",
                props.repository_name, self.clients.home_region
            )),
            Err(e) => Err(format!(
                "{}:{tag} was pushed, but its replicas cannot be looked up: {e}",
                props.repository_name
            )),
        }
    }
}

/// Opens the spooled tarball on the blocking pool (a `docker save` archive's layers are
/// hashed while opening).
async fn open(path: &Path, label: &str) -> Result<Tarball, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{label}: {e}"))?;
    let mut magic = [0u8; 2];
    if cib_registry::tar::read_exact_at(&file, &mut magic, 0).is_ok() && magic == [0x1f, 0x8b] {
        return Err(format!(
            "{label} is gzip-compressed; upload the uncompressed tar (blobs are read from it by              offset); nothing was pushed"
        ));
    }
    let label_owned = label.to_owned();
    tokio::task::spawn_blocking(move || Tarball::from_reader(Arc::new(file), label_owned, None))
        .await
        .map_err(|e| format!("{label}: reading the tarball stopped: {e}"))?
        .map_err(|e| format!("{label}: {e}; nothing was pushed"))
}
