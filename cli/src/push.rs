//! `cib push`: an image tarball (OCI layout or `docker save`) into an ECR repository with
//! ECR's own API: no Docker, no registry login.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cib_registry::copy::{CopyOptions, Tag};
use cib_registry::{EcrRepository, Progress, push_tarball};
use clap::Args;

use crate::aws::{self, Clients};

/// Examples shown by `cib push --help`.
pub const EXAMPLES: &str = "\
Examples:
  cib push image.tar --repository my-app --region eu-west-1
  skopeo copy containers-storage:localhost/app oci-archive:app.tar && cib push app.tar --repository app --tag v1
  docker save app:v1 -o app.tar && cib push app.tar --repository app

Prints the image digest and its URI. Without --tag the tag is the manifest digest's 64 hex
digits, so pushing an unchanged tarball again uploads nothing and moves nothing.";

/// Arguments of `cib push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// The image tarball: an OCI image layout in a tar, or a `docker save` archive.
    #[arg(value_name = "TARBALL")]
    pub tarball: PathBuf,

    /// The ECR repository (it must exist).
    #[arg(long, value_name = "NAME")]
    pub repository: String,

    /// The tag [default: the manifest digest's hex].
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,

    /// The AWS region [default: the standard AWS configuration's].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Which image of a tarball that holds several: an OCI ref name or a docker RepoTag.
    #[arg(long, value_name = "NAME")]
    pub image: Option<String>,

    /// Blobs uploaded at once.
    #[arg(long, value_name = "N", default_value_t = 3, hide = true)]
    pub parallel: usize,
}

/// `cib push`: exit 0 when the image is in the repository under its tag, 1 otherwise.
pub fn run(args: &PushArgs) -> ExitCode {
    aws::run_command(run_async(args))
}

async fn run_async(args: &PushArgs) -> Result<(), String> {
    if let Some(tag) = &args.tag {
        // ECR image tags: 1 to 300 characters (ECR API reference, PutImage imageTag); the
        // registry API's tag grammar is [A-Za-z0-9_][A-Za-z0-9._-]{0,127}.
        let valid = !tag.is_empty()
            && tag.len() <= 128
            && tag
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            && !tag.starts_with(['.', '-']);
        if !valid {
            return Err(format!(
                "--tag `{tag}`: a tag is 1-128 characters of [A-Za-z0-9._-], not starting with . or -"
            ));
        }
    }
    let clients = Clients::load(args.region.as_deref()).await?;
    let destination = EcrRepository::new(clients.ecr.clone(), &args.repository);
    let uri = destination.uri().await.map_err(|e| e.to_string())?;
    let options = CopyOptions {
        tag: match &args.tag {
            Some(tag) => Tag::Named(tag.clone()),
            None => Tag::DigestHex,
        },
        parallel_blobs: args.parallel,
        progress: Some(printer()),
    };
    let report = push_tarball(&args.tarball, args.image.as_deref(), &destination, &options)
        .await
        .map_err(|e| e.to_string())?;
    if report.blobs_uploaded == 0 {
        eprintln!(
            "all {} blobs were already in {}: no blob uploaded",
            report.blobs, args.repository
        );
    } else {
        eprintln!(
            "uploaded {} of {} blobs ({}), {} already there",
            report.blobs_uploaded,
            report.blobs,
            human(report.bytes_uploaded),
            report.blobs - report.blobs_uploaded
        );
    }
    let tag = report.tag.clone().unwrap_or_default();
    println!("digest: {}", report.digest);
    println!("uri: {uri}:{tag}");
    println!("pinned: {uri}@{}", report.digest);
    Ok(())
}

/// A progress callback for standard error: the plan, each blob done, and the bytes sent at
/// most every five seconds.
fn printer() -> cib_registry::ProgressFn {
    struct State {
        last: Instant,
        sent: std::collections::HashMap<String, u64>,
        total: u64,
    }
    let state = Arc::new(Mutex::new(State {
        last: Instant::now(),
        sent: Default::default(),
        total: 0,
    }));
    Arc::new(move |event: &Progress| {
        let Ok(mut s) = state.lock() else { return };
        match event {
            Progress::Planned {
                blobs,
                bytes,
                missing_blobs,
                missing_bytes,
            } => {
                s.total = *missing_bytes;
                eprintln!(
                    "{blobs} blobs ({}); {missing_blobs} to upload ({})",
                    human(*bytes),
                    human(*missing_bytes)
                );
            }
            Progress::BlobBytes { digest, sent, .. } => {
                s.sent.insert(digest.to_string(), *sent);
                if s.last.elapsed() >= Duration::from_secs(5) {
                    s.last = Instant::now();
                    let done: u64 = s.sent.values().sum();
                    eprintln!("  {} of {} sent", human(done), human(s.total));
                }
            }
            Progress::BlobDone { digest, size } => {
                eprintln!("  uploaded {digest} ({})", human(*size));
            }
            Progress::BlobStarted { .. } | Progress::ManifestPut { .. } => {}
        }
    })
}

/// Bytes for people: `1.5 MiB`.
fn human(bytes: u64) -> String {
    crate::package::upload::human_size(usize::try_from(bytes).unwrap_or(usize::MAX))
}
