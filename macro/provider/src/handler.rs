//! The orchestration: one function per kind of event, deciding what to call and what to
//! answer. Every CloudFormation request gets exactly one answer, from here or (for a
//! started build) from the build's final phase or the build-state path below.

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::{Value, json};

use crate::aws::codebuild;
use crate::aws::{Clients, ecr, respond};
use crate::backfill::{self, Presence};
use crate::contract_version::{self, Support};
use crate::error::ProviderError;
use crate::event::{self, BuildStateChange, CfnRequest, Incoming, RequestType};
use crate::failure_destination;
use crate::ids;
use crate::log::LogContext;
use crate::properties::TriggerProperties;
use crate::response::{CfnResponse, Status};
use crate::retry;
use crate::settings::Settings;
use crate::tag;

/// The custom type of the image trigger.
pub const TRIGGER_TYPE: &str = "Custom::ContainerImageBuild";
/// The custom type of the template's replication resource.
pub const REPLICATION_TYPE: &str = "Custom::ContainerImageBuildReplication";

/// The provider: AWS clients and settings.
#[derive(Debug, Clone)]
pub struct Provider {
    /// The AWS clients.
    pub clients: Clients,
    /// Pacing and test switches.
    pub settings: Settings,
}

fn log_for(request: &CfnRequest) -> LogContext {
    LogContext {
        stack_id: request.stack_id.clone(),
        logical_id: request.logical_resource_id.clone(),
        request_id: request.request_id.clone(),
    }
}

pub(crate) fn answer_for(
    request: &CfnRequest,
    physical_id: &str,
    status: Status,
    reason: String,
) -> CfnResponse {
    CfnResponse {
        status,
        reason,
        physical_resource_id: physical_id.to_string(),
        stack_id: request.stack_id.clone(),
        request_id: request.request_id.clone(),
        logical_resource_id: request.logical_resource_id.clone(),
        data: BTreeMap::new(),
    }
}

impl Provider {
    /// A provider over `clients`.
    pub fn new(clients: Clients, settings: Settings) -> Provider {
        Provider { clients, settings }
    }

    /// Handles one raw event. `deadline` is when the Lambda invocation ends.
    ///
    /// Returns a short summary of what was done. An error means no answer could be
    /// delivered (the invocation should fail, so Lambda retries it).
    pub async fn handle(&self, event: Value, deadline: Instant) -> Result<Value, ProviderError> {
        if let Some(record) = failure_destination::parse(&event) {
            return self.handle_failure_record(&record).await;
        }
        match event::parse(&event) {
            Ok(Incoming::Cfn(request)) => self.handle_cfn(&request, deadline).await,
            Ok(Incoming::BuildState(state)) => self.handle_build_state(&state).await,
            Err(e) => {
                LogContext::default().error("event not handled", json!({"error": e.to_string()}));
                Err(e)
            }
        }
    }

    async fn handle_cfn(
        &self,
        request: &CfnRequest,
        deadline: Instant,
    ) -> Result<Value, ProviderError> {
        let log = log_for(request);
        log.info(
            "request received",
            json!({"requestType": format!("{:?}", request.request_type),
                   "resourceType": request.resource_type,
                   "physicalResourceId": request.physical_resource_id}),
        );
        if let Err(refusal) = self.verify_request(request).await {
            return refusal.outcome(&log);
        }
        let physical_id = match &request.physical_resource_id {
            Some(id) if !id.is_empty() => id.clone(),
            _ => ids::new_physical_id(
                &request.stack_id,
                &request.logical_resource_id,
                &request.request_id,
            ),
        };
        match request.resource_type.as_str() {
            TRIGGER_TYPE if cib_trigger::index::is_index(&request.resource_properties) => {
                // Boxed: the index flow's registry calls make a deep future, and the
                // binary's handler future would otherwise exceed the layout depth limit.
                Box::pin(self.handle_index(request, &physical_id, &log)).await
            }
            TRIGGER_TYPE => {
                self.handle_trigger(request, &physical_id, &log, deadline)
                    .await
            }
            REPLICATION_TYPE => {
                self.handle_replication(request, &physical_id, &log, deadline)
                    .await
            }
            other => {
                let reason = format!(
                    "this provider handles {TRIGGER_TYPE} and {REPLICATION_TYPE}, not {other}"
                );
                let status = if request.request_type == RequestType::Delete {
                    Status::Success
                } else {
                    Status::Failed
                };
                self.answer(
                    &log,
                    &request.response_url,
                    answer_for(request, &physical_id, status, reason),
                )
                .await
            }
        }
    }

    /// Sends one answer and logs it.
    pub(crate) async fn answer(
        &self,
        log: &LogContext,
        url: &str,
        response: CfnResponse,
    ) -> Result<Value, ProviderError> {
        if !self.trusted_response_url(url) {
            // Never a PUT to a URL that is not CloudFormation's response bucket: the URL came
            // with the request, and whoever wrote the request chose it.
            return Ok(log.refused(
                "response-url",
                &format!(
                    "the response URL is not CloudFormation's response bucket in {}",
                    self.clients.home_region
                ),
            ));
        }
        let body = response.to_body();
        log.info(
            "answering CloudFormation",
            json!({"status": response.status, "reason": response.reason,
                   "physicalResourceId": response.physical_resource_id, "bytes": body.len()}),
        );
        if let Err(e) = respond::put(url, body).await {
            log.error("answer not delivered", json!({"error": e.to_string()}));
            return Err(e);
        }
        Ok(json!({"action": "answered", "status": response.status}))
    }

    async fn handle_trigger(
        &self,
        request: &CfnRequest,
        physical_id: &str,
        log: &LogContext,
        deadline: Instant,
    ) -> Result<Value, ProviderError> {
        let fail = |reason: String| answer_for(request, physical_id, Status::Failed, reason);
        if request.request_type == RequestType::Delete {
            // Images outlive the trigger: the repository's own policy decides their fate.
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
                Presence::MissingAtHome => {
                    log.info(
                        "image not found in the home region; building",
                        json!({"tag": tag}),
                    );
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
        // A build runs commands under the stack's build role: only what its template says.
        if let Err(refusal) = self.verify_content(request).await {
            return refusal.outcome(log);
        }
        let marker_key = ids::build_marker_key(&request.stack_id, &request.logical_resource_id);
        let request_mark = ids::short_hash(&[&request.stack_id, &request.request_id]);
        match ecr::repository_tag(&self.clients.ecr, &props.repository_arn, &marker_key).await {
            Ok(Some(v)) if v.split(' ').next() == Some(request_mark.as_str()) => {
                log.info(
                    "duplicate delivery: this request already started a build",
                    json!({"marker": v}),
                );
                return Ok(json!({"action": "duplicate", "marker": v}));
            }
            Ok(_) => {}
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
        if let Err(e) = ecr::set_repository_tag(
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
        if !matches!(home_lookup, ecr::Lookup::Found(_)) {
            return Ok(Presence::MissingAtHome);
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

    async fn handle_build_state(&self, event: &BuildStateChange) -> Result<Value, ProviderError> {
        // The event names a build; everything else is read from CodeBuild: anyone who may
        // invoke the provider can write an event, and a build's variables are whatever its
        // starter set, so only CodeBuild's own record of the build is believed.
        if event.build_id.is_empty() {
            return Ok(json!({"action": "ignored", "why": "no build id"}));
        }
        let state = match codebuild::build_state(&self.clients.codebuild, &event.build_id).await {
            Ok(Some(build)) => build,
            Ok(None) => {
                return Ok(LogContext::default().refused(
                    "build-state",
                    &format!("CodeBuild has no build {}", event.build_id),
                ));
            }
            Err(e) => {
                LogContext::default().error(
                    "cannot read the build from CodeBuild",
                    json!({"buildId": event.build_id, "error": e.to_string()}),
                );
                return Err(e);
            }
        };
        if event.needs_answer() && !state.is_finished() {
            // The event says the build ended, CodeBuild says it runs: a forgery, or CodeBuild
            // has not caught up yet. Fail the invocation so Lambda asks again later.
            LogContext::default().refused(
                "build-state",
                &format!(
                    "the event says build {} ended {}, CodeBuild says {}",
                    event.build_id, event.status, state.status
                ),
            );
            return Err(ProviderError::BadEvent(format!(
                "build {} is {} in CodeBuild, not ended",
                event.build_id, state.status
            )));
        }
        let state = &state;
        let environment = state.environment.clone();
        let get = |name: &str| {
            environment
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let log = LogContext {
            stack_id: get("CIB_STACK_ID"),
            logical_id: get("CIB_LOGICAL_ID"),
            request_id: get("CIB_REQUEST_ID"),
        };
        // The event and BatchGetBuilds carry only the parameter's name; the URL is in SSM.
        let parameter = get("CIB_RESPONSE_PARAMETER");
        if parameter.is_empty() || log.request_id.is_empty() {
            return Ok(json!({"action": "ignored", "why": "not a ContainerImageBuild build"}));
        }
        if !state.needs_answer() {
            log.info(
                "build ended; its final phase already answered",
                json!({"buildId": state.build_id, "status": state.status}),
            );
            return Ok(json!({"action": "ignored", "why": "answered by the build"}));
        }
        let url = match self
            .stored_response_url(&state.project_name, &parameter, &log.stack_id)
            .await
        {
            Ok(url) => url,
            Err(why) => {
                log.error(
                    "no trusted response URL; not answering",
                    json!({"buildId": state.build_id, "why": why.0}),
                );
                return Ok(json!({"action": "ignored", "why": why.0}));
            }
        };
        let phase = state.failing_phase();
        let mut reason = format!("The image build ended {}", state.status);
        if let Some(p) = phase {
            reason.push_str(&format!(" in phase {}", p.phase_type));
            if let Some(c) = &p.context {
                reason.push_str(&format!(" ({c})"));
            }
        }
        reason.push_str(&format!(
            ". Build {}; log: {}",
            state.build_id,
            state
                .log_link
                .as_deref()
                .unwrap_or("see the CodeBuild console")
        ));
        let response = CfnResponse {
            status: Status::Failed,
            reason,
            physical_resource_id: get("CIB_PHYSICAL_ID"),
            stack_id: log.stack_id.clone(),
            request_id: log.request_id.clone(),
            logical_resource_id: log.logical_id.clone(),
            data: BTreeMap::new(),
        };
        let answered = self.answer(&log, &url, response).await?;
        self.delete_response_parameter(&parameter, &log).await;
        Ok(answered)
    }

    /// Response URLs read back for a build-state event are answered only when they are
    /// CloudFormation's response bucket of this region ([`crate::response_url`]).
    pub(crate) fn trusted_response_url(&self, url: &str) -> bool {
        if self.settings.allow_http_response_url {
            return url.starts_with("http://") || url.starts_with("https://");
        }
        crate::response_url::is_cloudformation_response_url(url, &self.clients.home_region)
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

/// The attributes of a built image: what `Fn::GetAtt` reads.
pub fn image_attributes(
    props: &TriggerProperties,
    tag: &str,
    digest: &str,
    home_region: &str,
) -> BTreeMap<String, String> {
    let mut data = BTreeMap::new();
    data.insert("ImageUri".into(), format!("{}:{tag}", props.repository_uri));
    data.insert("ImageTag".into(), tag.to_string());
    data.insert("ImageDigest".into(), digest.to_string());
    data.insert(
        "ImageUriWithDigest".into(),
        format!("{}@{digest}", props.repository_uri),
    );
    data.insert("RepositoryName".into(), props.repository_name.clone());
    data.insert("RepositoryArn".into(), props.repository_arn.clone());
    data.insert("RepositoryUri".into(), props.repository_uri.clone());
    for region in &props.replica_regions {
        data.insert(
            format!("ImageUri.{region}"),
            format!(
                "{}:{tag}",
                props.replica_repository_uri(home_region, region)
            ),
        );
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_config::{BehaviorVersion, Region, SdkConfig};

    fn provider(allow_http: bool) -> Provider {
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .build();
        let settings = Settings {
            allow_http_response_url: allow_http,
            ..Settings::default()
        };
        Provider::new(Clients::new(sdk), settings)
    }

    #[test]
    fn only_presigned_aws_urls_are_trusted_from_builds() {
        let p = provider(false);
        assert!(p.trusted_response_url(
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?sig=1"
        ));
        assert!(!p.trusted_response_url("http://cloudformation.s3.amazonaws.com/x"));
        assert!(!p.trusted_response_url("https://attacker.s3.amazonaws.com/x"));
        assert!(!p.trusted_response_url("https://evil.example/x"));
        assert!(!p.trusted_response_url("https://user@evil.example/.amazonaws.com"));
        assert!(provider(true).trusted_response_url("http://127.0.0.1:9/x"));
    }
}
