//! The build flow of an image trigger: answer from an image that already exists, copy it
//! into replica regions that lack it, or (past the gate's content check) start one CodeBuild
//! build, which answers CloudFormation itself.

use std::time::Instant;

use serde_json::{Value, json};

use crate::aws::ecr;
use crate::contract_version::{self, Support};
use crate::error::ProviderError;
use crate::event::{CfnRequest, RequestType};
use crate::flows::backfill::{self, Presence};
use crate::flows::retry;
use crate::gate::repository;
use crate::ids;
use crate::log::LogContext;
use crate::properties::TriggerProperties;
use crate::provider::Provider;
use crate::response::{Status, answer_for, image_attributes};
use crate::tag;

impl Provider {
    pub(crate) async fn handle_trigger(
        &self,
        request: &CfnRequest,
        physical_id: &str,
        log: &LogContext,
        deadline: Instant,
    ) -> Result<Value, ProviderError> {
        let fail = |reason: String| answer_for(request, physical_id, Status::Failed, reason);
        if request.request_type == RequestType::Delete {
            // Images outlive the trigger: the repository's own policy decides their fate.
            self.remove_build_marker(request, log).await;
            let ok = answer_for(request, physical_id, Status::Success, String::new());
            return self.answer(log, &request.response_url, ok).await;
        }
        let props = match TriggerProperties::parse(&request.resource_properties) {
            Ok(p) => p,
            Err(e) => {
                return self
                    .answer(log, &request.response_url, fail(e.to_string()))
                    .await;
            }
        };
        let support = match contract_version::support(props.contract_version.as_deref()) {
            Ok(s) => s,
            Err(reason) => return self.answer(log, &request.response_url, fail(reason)).await,
        };
        if props.is_tarball() {
            // Boxed: the push's future is deep, and nesting it here overflows type layout.
            return Box::pin(self.handle_tarball(request, &props, physical_id, log, deadline))
                .await;
        }
        let tag = match tag::image_tag(&props) {
            Ok(t) => t,
            Err(e) => {
                return self
                    .answer(log, &request.response_url, fail(e.to_string()))
                    .await;
            }
        };
        // A trigger of the previous contract is never built, so even a fixed tag is
        // answered from the image that exists (a rollback to such a template).
        let mut rejected_in_replicas = Vec::new();
        if props.image_tag.is_none() || support == Support::ExistingImagesOnly {
            let presence = match self.presence(&props, &tag).await {
                Ok(p) => p,
                Err(e) => {
                    // Building on a failed lookup could push the tag again (a new digest).
                    let reason = format!(
                        "cannot tell whether {}:{tag} already exists, so no build was started: {e}",
                        props.repository_name
                    );
                    return self.answer(log, &request.response_url, fail(reason)).await;
                }
            };
            let digest = match presence {
                Presence::MissingAtHome { held_in_replicas } => {
                    log.info(
                        "image not found in the home region; building",
                        json!({"tag": tag}),
                    );
                    rejected_in_replicas = held_in_replicas;
                    None
                }
                Presence::Everywhere { digest } => {
                    log.info("image already built; no build needed", json!({"tag": tag}));
                    Some(digest)
                }
                Presence::Mismatch {
                    region,
                    home_digest,
                    replica_digest,
                } => {
                    let reason = format!(
                        "{}:{tag} is {home_digest} in {} but {replica_digest} in {region}; a tag \
                         never moves, so nothing was copied or built: delete the image in \
                         {region} (it is not the one this stack deployed) and retry",
                        props.repository_name, self.clients.home_region
                    );
                    return self.answer(log, &request.response_url, fail(reason)).await;
                }
                Presence::MissingInReplicas { digest, missing } => {
                    // A copy is a registry write: the stack must have asked for it (and
                    // `backfill` writes only into a repository of the stack's own).
                    if let Err(refusal) = self.verify_content(request).await {
                        return refusal.outcome(log);
                    }
                    log.info(
                        "image missing in replica regions; copying it from the home region",
                        json!({"tag": tag, "digest": digest,
                               "regions": missing.iter().map(|m| m.region.as_str()).collect::<Vec<_>>()}),
                    );
                    match self
                        .backfill(
                            &props,
                            &request.stack_id,
                            (&tag, &digest),
                            &missing,
                            deadline,
                            log,
                        )
                        .await
                    {
                        Ok(()) => Some(digest),
                        Err(reason) => {
                            return self.answer(log, &request.response_url, fail(reason)).await;
                        }
                    }
                }
            };
            if let Some(digest) = digest {
                let mut ok = answer_for(request, physical_id, Status::Success, String::new());
                ok.data = image_attributes(&props, &tag, &digest, &self.clients.home_region);
                return self.answer(log, &request.response_url, ok).await;
            }
        }
        if support == Support::ExistingImagesOnly {
            let reason = contract_version::rebuild_refused();
            return self.answer(log, &request.response_url, fail(reason)).await;
        }
        if props.image_tag.is_some()
            && let Some(done) = self
                .retag_from_content(request, &props, &tag, physical_id, log)
                .await
        {
            return done;
        }
        // A build runs commands under the stack's build role: only what its template says.
        if let Err(refusal) = self.verify_content(request).await {
            return refusal.outcome(log);
        }
        if let Err(reason) = self
            .clear_rejected_replicas(request, &props, &tag, &rejected_in_replicas, log)
            .await
        {
            return self.answer(log, &request.response_url, fail(reason)).await;
        }
        self.prepare_replica_repositories(request, &props, &tag, log)
            .await;
        let marker_key = ids::build_marker_key(&request.stack_id, &request.logical_resource_id);
        let request_mark = ids::short_hash(&[&request.stack_id, &request.request_id]);
        // Whether the marker fits: ECR holds 50 tags per repository, and a repository the
        // template does not own (`ExistingRepositoryName`) carries its owner's tags and one
        // marker per trigger that pushes into it.
        let mut marker_fits = false;
        match ecr::repository_tags(&self.clients.ecr, &props.repository_arn).await {
            Ok(tags) => {
                let held = tags.iter().find(|(k, _)| *k == marker_key).map(|(_, v)| v);
                if let Some(v) = held
                    && v.split(' ').next() == Some(request_mark.as_str())
                {
                    log.info(
                        "duplicate delivery: this request already started a build",
                        json!({"marker": v}),
                    );
                    return Ok(json!({"action": "duplicate", "marker": v}));
                }
                marker_fits = held.is_some() || tags.len() < ecr::TAGS_PER_REPOSITORY_MAX;
            }
            Err(e) => log.warn(
                "cannot read the build marker; relying on the idempotency token",
                json!({"error": e.to_string()}),
            ),
        }
        let build = match self
            .prepare_build(request, &props, &tag, physical_id, &request_mark)
            .await
        {
            Ok(build) => build,
            Err(reason) => return self.answer(log, &request.response_url, fail(reason)).await,
        };
        let build_id = match self
            .start_while_time_left(request, &build, log, deadline)
            .await
        {
            retry::Started::Build(id) => id,
            // The re-invoked attempt writes the response parameter again before it starts.
            retry::Started::Requeued(summary) => return Ok(summary),
            retry::Started::Failed(reason) => {
                self.discard_response_parameter(&build, log).await;
                return self.answer(log, &request.response_url, fail(reason)).await;
            }
        };
        log.info(
            "build started; the build answers CloudFormation when it ends",
            json!({"buildId": build_id, "tag": tag, "project": props.project_name}),
        );
        let marker = ids::build_marker_value(&request_mark, &build_id);
        if !marker_fits {
            log.warn(
                "build marker not recorded: the repository holds ECR's 50 tags, or they could \
                 not be read; the idempotency token still guards a retried request",
                json!({"repository": props.repository_arn}),
            );
        } else if let Err(e) = ecr::set_repository_tag(
            &self.clients.ecr,
            &props.repository_arn,
            &marker_key,
            &marker,
        )
        .await
        {
            log.warn(
                "cannot record the build marker",
                json!({"error": e.to_string()}),
            );
        }
        Ok(json!({"action": "build-started", "buildId": build_id, "tag": tag}))
    }

    /// Where `tag` is: the home region's lookup, then each replica region's; an error
    /// (naming the region) when ECR cannot be asked.
    pub(crate) async fn presence(
        &self,
        props: &TriggerProperties,
        tag: &str,
    ) -> Result<Presence, ProviderError> {
        let home = &self.clients.home_region;
        let home_lookup = ecr::image_lookup(&self.clients.ecr, &props.repository_name, tag)
            .await
            .map_err(|e| in_region(home, e))?;
        // Without the tag at home, the replicas matter only to a gated image: a tag one of
        // them holds is an image the gate rejected, which the rebuild's replication would
        // collide with (see `clear_rejected_replicas`).
        if !matches!(home_lookup, ecr::Lookup::Found(_)) && props.scan.is_none() {
            return Ok(Presence::MissingAtHome {
                held_in_replicas: Vec::new(),
            });
        }
        let mut replicas = Vec::new();
        for region in &props.replica_regions {
            let client = self.clients.ecr_in(region);
            let lookup = ecr::image_lookup(&client, &props.repository_name, tag)
                .await
                .map_err(|e| in_region(region, e))?;
            replicas.push((region.clone(), lookup));
        }
        Ok(backfill::classify(home_lookup, replicas))
    }

    /// How replicas of the image's repository are encrypted (its home repository's
    /// encryption, see [`ecr::ReplicaEncryption`]); AES256 when it cannot be read.
    pub(crate) async fn replica_encryption(
        &self,
        props: &TriggerProperties,
        log: &LogContext,
    ) -> ecr::ReplicaEncryption {
        match ecr::replica_encryption(&self.clients.ecr, &props.repository_name).await {
            Ok(encryption) => encryption,
            Err(e) => {
                log.warn(
                    "cannot read the home repository's encryption; replicas get AES256",
                    json!({"error": e.to_string()}),
                );
                ecr::ReplicaEncryption::Aes256
            }
        }
    }

    /// Removes the trigger's build marker from its repository when CloudFormation deletes
    /// the trigger, so markers stay bounded by the triggers that exist (a repository of
    /// another template's collects one per trigger that pushes into it). The key is this
    /// stack's and logical id's only; a failure is logged, never fails the delete.
    async fn remove_build_marker(&self, request: &CfnRequest, log: &LogContext) {
        let Ok(props) = TriggerProperties::parse(&request.resource_properties) else {
            return;
        };
        if props.repository_arn.is_empty() || props.is_tarball() {
            return;
        }
        let key = ids::build_marker_key(&request.stack_id, &request.logical_resource_id);
        if let Err(e) =
            ecr::remove_repository_tag(&self.clients.ecr, &props.repository_arn, &key).await
        {
            log.warn(
                "cannot remove the build marker",
                json!({"error": e.to_string(), "key": key}),
            );
        }
    }

    /// Removes `tag` from each replica region in `held` (region, digest) before a gated
    /// image is rebuilt: the home region lacks the tag, so the image there is one the scan
    /// gate rejected after replication had copied it, and the rebuild's replication would
    /// find the immutable tag taken. Only in the stack's own generated repositories (the
    /// provider writes nowhere else); for another repository the FAILED reason says what to
    /// delete.
    async fn clear_rejected_replicas(
        &self,
        request: &CfnRequest,
        props: &TriggerProperties,
        tag: &str,
        held: &[(String, String)],
        log: &LogContext,
    ) -> Result<(), String> {
        if held.is_empty() {
            return Ok(());
        }
        let repository = &props.repository_name;
        if let Err(why) = repository::stack_repository(repository, &request.stack_id) {
            let (region, digest) = &held[0];
            return Err(format!(
                "{repository}:{tag} is not in {} but {region} holds it ({digest}), an image                  the scan gate rejected that replication copied later; the rebuild's                  replication would collide with it, and {why}: delete that tag in {region}                  and retry",
                self.clients.home_region
            ));
        }
        for (region, digest) in held {
            ecr::remove_tag(&self.clients.ecr_in(region), repository, tag)
                .await
                .map_err(|e| {
                    format!(
                        "{repository}:{tag} in {region} ({digest}) is an image the scan gate                          rejected, and removing its tag failed, so no build was started: {e}"
                    )
                })?;
            log.info(
                "tag of a rejected image removed in a replica region before the rebuild",
                json!({"tag": tag, "region": region, "digest": digest}),
            );
        }
        Ok(())
    }

    /// Creates, with our settings, each replica repository the build's push will replicate
    /// to and that does not exist yet: a region never bootstrapped has no repository
    /// creation template, and ECR replication would create it with ECR's defaults (mutable
    /// tags, no lifecycle policy). Only the stack's own generated repositories (the ones the
    /// provider may write); a failure is logged and replication creates it as it would have.
    async fn prepare_replica_repositories(
        &self,
        request: &CfnRequest,
        props: &TriggerProperties,
        tag: &str,
        log: &LogContext,
    ) {
        if crate::gate::repository::stack_repository(&props.repository_name, &request.stack_id)
            .is_err()
        {
            return;
        }
        let mut encryption = None;
        for region in &props.replica_regions {
            let client = self.clients.ecr_in(region);
            let exists = ecr::image_lookup(&client, &props.repository_name, tag).await;
            if !matches!(exists, Ok(ecr::Lookup::NoRepository)) {
                continue;
            }
            let encryption = match encryption {
                Some(known) => known,
                None => {
                    let known = self.replica_encryption(props, log).await;
                    encryption = Some(known);
                    known
                }
            };
            match ecr::create_image_repository(&client, &props.repository_name, encryption).await {
                Ok(()) => log.info(
                    "replica repository created with our settings before the first push",
                    json!({"region": region, "repository": props.repository_name}),
                ),
                Err(e) => log.warn(
                    "cannot create the replica repository; replication creates it with ECR's defaults",
                    json!({"region": region, "error": e.to_string()}),
                ),
            }
        }
    }
}

/// An ECR lookup error, saying in which region it happened.
fn in_region(region: &str, e: ProviderError) -> ProviderError {
    match e {
        ProviderError::Aws { operation, message } => ProviderError::Aws {
            operation,
            message: format!("{message} (region {region})"),
        },
        other => other,
    }
}
