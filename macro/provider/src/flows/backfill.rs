//! Replica back-fill: a tag that exists in the home region but is missing in a replica
//! region (a replica added later, replication still on its way) is copied there from the
//! home region with `cib-registry`, same digest, instead of being rebuilt (a rebuild would
//! push the tag again, to a new digest, and immutable tags refuse it anyway).
//!
//! [`classify`] decides from the lookups (pure); [`Provider::backfill`] copies. The copy
//! writes blobs first, manifests after and the tag last, so a copy cut short by the
//! invocation's deadline leaves nothing tagged.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cib_registry::{CopyOptions, EcrRepository, Progress, ProgressFn, copy_image};
use serde_json::json;

use crate::aws::ecr::{self, Lookup};
use crate::log::LogContext;
use crate::properties::TriggerProperties;
use crate::provider::Provider;

/// Time kept back from the invocation's deadline for answering CloudFormation after a copy
/// (the response PUT has its own 20 s per-attempt timeout and retries,
/// [`crate::aws::respond::PUT_TIMEOUT`]).
pub const ANSWER_MARGIN: Duration = Duration::from_secs(60);

/// Below this much time for copying, no copy is started.
pub const MIN_COPY_TIME: Duration = Duration::from_secs(10);

/// Where a tag is, across the home region and the replica regions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// The home region lacks the tag: build it.
    MissingAtHome {
        /// Replica regions that hold the tag all the same, with their digest: an image the
        /// scan gate rejected after replication had copied it (the gate removes the tag
        /// at home and in each replica that already holds it; replication may come later).
        held_in_replicas: Vec<(String, String)>,
    },
    /// Every region holds the tag with the home region's digest.
    Everywhere {
        /// The image's digest.
        digest: String,
    },
    /// The home region holds the tag; these replica regions do not.
    MissingInReplicas {
        /// The home region's digest.
        digest: String,
        /// The replica regions lacking the tag.
        missing: Vec<MissingReplica>,
    },
    /// A replica region holds the tag with another digest (never overwritten).
    Mismatch {
        /// The replica region.
        region: String,
        /// The home region's digest.
        home_digest: String,
        /// The replica's digest.
        replica_digest: String,
    },
}

/// A replica region that lacks the tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingReplica {
    /// The region.
    pub region: String,
    /// Whether the repository exists there (replication creates it on its first copy).
    pub repository_exists: bool,
}

/// Decides from the home region's lookup and each replica region's.
pub fn classify(home: Lookup, replicas: Vec<(String, Lookup)>) -> Presence {
    let Lookup::Found(digest) = home else {
        let held_in_replicas = replicas
            .into_iter()
            .filter_map(|(region, lookup)| match lookup {
                Lookup::Found(digest) => Some((region, digest)),
                Lookup::NoImage | Lookup::NoRepository => None,
            })
            .collect();
        return Presence::MissingAtHome { held_in_replicas };
    };
    let mut missing = Vec::new();
    for (region, lookup) in replicas {
        match lookup {
            Lookup::Found(d) if d == digest => {}
            Lookup::Found(other) => {
                return Presence::Mismatch {
                    region,
                    home_digest: digest,
                    replica_digest: other,
                };
            }
            Lookup::NoImage => missing.push(MissingReplica {
                region,
                repository_exists: true,
            }),
            Lookup::NoRepository => missing.push(MissingReplica {
                region,
                repository_exists: false,
            }),
        }
    }
    if missing.is_empty() {
        Presence::Everywhere { digest }
    } else {
        Presence::MissingInReplicas { digest, missing }
    }
}

/// What one region's copy has done so far, from the copy's progress events.
#[derive(Debug, Default, Clone)]
struct Copied {
    blobs: usize,
    bytes: u64,
    blobs_done: usize,
    bytes_done: u64,
}

impl Copied {
    fn describe(&self) -> String {
        format!(
            "{} of {} missing blobs ({} of {} bytes) uploaded, nothing tagged",
            self.blobs_done, self.blobs, self.bytes_done, self.bytes
        )
    }
}

fn recorder() -> (ProgressFn, Arc<Mutex<Copied>>) {
    let state = Arc::new(Mutex::new(Copied::default()));
    let sink = Arc::clone(&state);
    let f: ProgressFn = Arc::new(move |p: &Progress| {
        let Ok(mut c) = sink.lock() else { return };
        match p {
            Progress::Planned {
                missing_blobs,
                missing_bytes,
                ..
            } => {
                c.blobs = *missing_blobs;
                c.bytes = *missing_bytes;
            }
            Progress::BlobDone { size, .. } => {
                c.blobs_done += 1;
                c.bytes_done += size;
            }
            _ => {}
        }
    });
    (f, state)
}

impl Provider {
    /// Copies `repository:tag` (digest `digest`, given as `(tag, digest)`) of stack
    /// `stack_id` from the home region into each of `missing`, creating a missing
    /// repository first, all before `deadline` less [`ANSWER_MARGIN`]. `Err` is the FAILED
    /// reason: the image, the region, what was copied.
    pub(crate) async fn backfill(
        &self,
        props: &TriggerProperties,
        stack_id: &str,
        (tag, digest): (&str, &str),
        missing: &[MissingReplica],
        deadline: Instant,
        log: &LogContext,
    ) -> Result<(), String> {
        let home = &self.clients.home_region;
        let image = format!("{}:{tag} ({digest})", props.repository_name);
        let regions: Vec<&str> = missing.iter().map(|m| m.region.as_str()).collect();
        let head = format!(
            "{image} exists in {home} but is missing in {}",
            regions.join(", ")
        );
        if crate::gate::repository::stack_repository(&props.repository_name, stack_id).is_err() {
            return Err(format!(
                "{head}. The provider copies only the stack's own generated repositories \
                 ({}/<id>-<stack uuid>) into replica regions; wait for ECR replication to copy \
                 it, or copy it yourself with the same digest, then retry. No build was started \
                 (it would push the tag again, to another digest)",
                cib_contract::REPOSITORY_NAMESPACE
            ));
        }
        let copy_until = deadline.checked_sub(ANSWER_MARGIN);
        let time_left = copy_until.and_then(|t| t.checked_duration_since(Instant::now()));
        if time_left.is_none_or(|t| t < MIN_COPY_TIME) {
            return Err(format!(
                "{head}; too little time left in this invocation to copy it (at least {} s \
                 needed before the {} s kept to answer); nothing was copied",
                MIN_COPY_TIME.as_secs(),
                ANSWER_MARGIN.as_secs()
            ));
        }
        let until = tokio::time::Instant::from_std(copy_until.unwrap_or(deadline));
        let source = EcrRepository::new(self.clients.ecr.clone(), &props.repository_name);
        let mut done: Vec<&str> = Vec::new();
        let encryption = if missing.iter().any(|m| !m.repository_exists) {
            self.replica_encryption(props, log).await
        } else {
            ecr::ReplicaEncryption::Aes256
        };
        for replica in missing {
            let region = replica.region.as_str();
            let client = self.clients.ecr_in(region);
            let (progress, copied) = recorder();
            let work = async {
                if !replica.repository_exists {
                    ecr::create_image_repository(&client, &props.repository_name, encryption)
                        .await
                        .map_err(|e| e.to_string())?;
                    log.info(
                        "created the replica repository",
                        json!({"region": region, "repository": props.repository_name}),
                    );
                }
                let destination = EcrRepository::new(client.clone(), &props.repository_name);
                let options = CopyOptions {
                    progress: Some(progress),
                    ..CopyOptions::default()
                };
                copy_image(&source, &destination, tag, &options)
                    .await
                    .map_err(|e| e.to_string())
            };
            let outcome = tokio::time::timeout_at(until, work).await;
            let so_far = copied.lock().map(|c| c.describe()).unwrap_or_default();
            let earlier = if done.is_empty() {
                String::new()
            } else {
                format!(" (already copied to {})", done.join(", "))
            };
            match outcome {
                Ok(Ok(report)) if report.digest.as_str() == digest => {
                    log.info(
                        "copied the image into a replica region",
                        json!({"region": region, "digest": digest,
                               "blobsUploaded": report.blobs_uploaded,
                               "bytesUploaded": report.bytes_uploaded,
                               "alreadyPresent": report.already_present}),
                    );
                    done.push(region);
                }
                Ok(Ok(report)) => {
                    return Err(format!(
                        "{head}; the copy into {region} read {} from {home}, not the digest \
                         looked up, so the tag changed meanwhile{earlier}",
                        report.digest
                    ));
                }
                Ok(Err(e)) => {
                    return Err(format!(
                        "{head}; copying it into {region} failed: {e}; {so_far} in \
                         {region}{earlier}"
                    ));
                }
                Err(_) => {
                    return Err(format!(
                        "{head}; copying it into {region} did not finish within this \
                         invocation ({} s are kept to answer): {so_far} in {region}{earlier}; \
                         retry the deployment to resume (uploaded blobs are kept)",
                        ANSWER_MARGIN.as_secs()
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(d: &str) -> Lookup {
        Lookup::Found(d.to_string())
    }

    #[test]
    fn missing_at_home_builds_and_names_the_replicas_holding_the_tag() {
        let p = classify(
            Lookup::NoImage,
            vec![
                ("eu-west-1".into(), found("sha256:a")),
                ("us-west-2".into(), Lookup::NoImage),
            ],
        );
        assert_eq!(
            p,
            Presence::MissingAtHome {
                held_in_replicas: vec![("eu-west-1".into(), "sha256:a".into())]
            }
        );
        assert_eq!(
            classify(Lookup::NoRepository, vec![]),
            Presence::MissingAtHome {
                held_in_replicas: vec![]
            }
        );
    }

    #[test]
    fn replicas_missing_the_tag_are_listed_with_their_repository() {
        let p = classify(
            found("sha256:a"),
            vec![
                ("us-west-2".into(), found("sha256:a")),
                ("eu-west-1".into(), Lookup::NoImage),
                ("ap-south-1".into(), Lookup::NoRepository),
            ],
        );
        let Presence::MissingInReplicas { digest, missing } = p else {
            panic!("expected a back-fill, got {p:?}")
        };
        assert_eq!(digest, "sha256:a");
        assert_eq!(
            missing,
            vec![
                MissingReplica {
                    region: "eu-west-1".into(),
                    repository_exists: true
                },
                MissingReplica {
                    region: "ap-south-1".into(),
                    repository_exists: false
                },
            ]
        );
    }

    #[test]
    fn another_digest_in_a_replica_is_a_mismatch_even_when_others_are_missing() {
        let p = classify(
            found("sha256:a"),
            vec![
                ("eu-west-1".into(), Lookup::NoImage),
                ("us-west-2".into(), found("sha256:b")),
            ],
        );
        assert_eq!(
            p,
            Presence::Mismatch {
                region: "us-west-2".into(),
                home_digest: "sha256:a".into(),
                replica_digest: "sha256:b".into()
            }
        );
    }

    #[test]
    fn the_same_digest_everywhere_needs_nothing() {
        let p = classify(
            found("sha256:a"),
            vec![("eu-west-1".into(), found("sha256:a"))],
        );
        assert_eq!(
            p,
            Presence::Everywhere {
                digest: "sha256:a".into()
            }
        );
    }
}
