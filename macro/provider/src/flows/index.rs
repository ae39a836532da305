//! The index resource of a multi-platform image: writes the OCI image index over the
//! platforms' manifests with PutImage (cib-registry), in the home region and in each
//! replica region, and answers with the index's and each platform's attributes.
//!
//! There is no join to coordinate here: every platform is a trigger of its own, and the
//! index resource receives their `ImageTag` and `ImageDigest` through `Fn::GetAtt`, so
//! CloudFormation calls it only after every platform answered SUCCESS (and fails the stack
//! with the first failing platform's own reason, its log link included, otherwise). One
//! request gets one answer because the index is written in a single invocation; a repeated
//! delivery writes the same bytes again, which ECR takes as already there.

use std::collections::BTreeMap;

use cib_registry::manifest::{Parsed, Platform};
use cib_registry::{Destination, EcrRepository, Manifest, Source, image_index};
use serde_json::{Value, json};

use crate::error::ProviderError;
use crate::event::{CfnRequest, RequestType};
use crate::log::LogContext;
use crate::provider::Provider;
use crate::response::Status;
use crate::response::{ImageRepository, answer_for, attributes_in};
use cib_trigger::index::IndexProperties;

/// The attributes of the index resource: the index's (`ImageUri`, `ImageDigest`, ...), each
/// platform's (`ImageUri.amd64`, `ImageDigest.arm64`, ...) and each replica's URI.
pub fn index_attributes(
    props: &IndexProperties,
    tag: &str,
    digest: &str,
    home_region: &str,
) -> BTreeMap<String, String> {
    let repository = ImageRepository {
        name: &props.repository_name,
        arn: &props.repository_arn,
        uri: &props.repository_uri,
        replica_regions: &props.replica_regions,
    };
    let mut data = attributes_in(repository, tag, digest, home_region);
    let uri = &props.repository_uri;
    for m in &props.manifests {
        let arch = m.architecture();
        data.insert(format!("ImageUri.{arch}"), format!("{uri}:{}", m.image_tag));
        data.insert(format!("ImageDigest.{arch}"), m.image_digest.clone());
    }
    data
}

/// Reads each platform's manifest from `repository` and writes the index over them under
/// `tag`; returns the index. A platform whose manifest is missing or is itself an index is
/// an error naming the platform.
pub async fn write_index(
    repository: &EcrRepository,
    props: &IndexProperties,
    tag: &str,
) -> Result<Manifest, String> {
    let mut entries = Vec::with_capacity(props.manifests.len());
    for m in &props.manifests {
        let manifest = repository
            .manifest(&m.image_digest, None)
            .await
            .map_err(|e| {
                format!(
                    "the {} manifest {} of {}: {e}",
                    m.platform, m.image_digest, props.repository_name
                )
            })?;
        let architecture = m.architecture().to_owned();
        // arm64 images are `linux/arm64/v8`, as the OCI image index spec's platform
        // variants and BuildKit write them.
        let variant = (architecture == "arm64").then(|| "v8".to_owned());
        let platform = Platform {
            architecture,
            os: "linux".into(),
            variant,
        };
        entries.push((manifest, platform));
    }
    let index = image_index(&entries).map_err(|e| e.to_string())?;
    let children: Vec<&str> = props
        .manifests
        .iter()
        .map(|m| m.image_digest.as_str())
        .collect();
    // An index already under the tag over exactly these platform manifests is this image
    // (one written before its entries carried `variant`): kept, never replaced (the tag is
    // immutable, and a stack may point at its digest).
    if let Some(existing) = equivalent_index(repository, tag, &children).await {
        return Ok(existing);
    }
    repository
        .put_manifest(&index, Some(tag))
        .await
        .map_err(|e| format!("writing the image index {tag}: {e}"))?;
    Ok(index)
}

/// The index under `tag` in `repository` when it lists exactly the manifests `children`,
/// whatever its entries' platform fields say; `None` when there is none or it differs.
async fn equivalent_index(
    repository: &EcrRepository,
    tag: &str,
    children: &[&str],
) -> Option<Manifest> {
    let existing = repository.manifest(tag, None).await.ok()?;
    let Ok(Parsed::Index { manifests }) = existing.parse() else {
        return None;
    };
    let mut have: Vec<&str> = manifests.iter().map(|d| d.digest.as_str()).collect();
    let mut want = children.to_vec();
    have.sort_unstable();
    want.sort_unstable();
    (have == want).then_some(existing)
}

impl Provider {
    /// Handles a request for a multi-platform image's index resource.
    pub(crate) async fn handle_index(
        &self,
        request: &CfnRequest,
        physical_id: &str,
        log: &LogContext,
    ) -> Result<Value, ProviderError> {
        let answer = |status, reason: String| answer_for(request, physical_id, status, reason);
        if request.request_type == RequestType::Delete {
            // The index and its manifests outlive the resource, as a single image does.
            return self
                .answer(
                    log,
                    &request.response_url,
                    answer(Status::Success, String::new()),
                )
                .await;
        }
        // The index is a registry write: only into what the stack's template names.
        if let Err(refusal) = self.verify_content(request).await {
            return refusal.outcome(log);
        }
        let props = match IndexProperties::parse(&request.resource_properties) {
            Ok(p) => p,
            Err(e) => {
                return self
                    .answer(
                        log,
                        &request.response_url,
                        answer(Status::Failed, e.to_string()),
                    )
                    .await;
            }
        };
        let outcome = match (
            props.tag(),
            crate::gate::repository::stack_repository(&props.repository_name, &request.stack_id)
                .err(),
        ) {
            (Err(e), _) => Err(e.to_string()),
            (_, Some(reason)) => Err(reason),
            (Ok(tag), None) => self
                .write_everywhere(&props, &tag, log)
                .await
                .map(|d| (tag, d)),
        };
        let response = match outcome {
            Ok((tag, digest)) => {
                let mut ok = answer(Status::Success, String::new());
                ok.data = index_attributes(&props, &tag, &digest, &self.clients.home_region);
                ok
            }
            Err(reason) => answer(Status::Failed, reason),
        };
        self.answer(log, &request.response_url, response).await
    }

    /// Writes the index at home, then in each replica region (whose repositories already
    /// hold the platforms' manifests: each platform's build waited for them); returns the
    /// index digest.
    async fn write_everywhere(
        &self,
        props: &IndexProperties,
        tag: &str,
        log: &LogContext,
    ) -> Result<String, String> {
        let home = EcrRepository::new(self.clients.ecr.clone(), &props.repository_name);
        let index = write_index(&home, props, tag).await?;
        log.info(
            "image index written",
            json!({"tag": tag, "digest": index.digest.as_str()}),
        );
        for region in &props.replica_regions {
            let replica = EcrRepository::new(self.clients.ecr_in(region), &props.repository_name);
            replica
                .put_manifest(&index, Some(tag))
                .await
                .map_err(|e| format!("writing the image index {tag} in {region}: {e}"))?;
            log.info("image index written in replica", json!({"region": region}));
        }
        Ok(index.digest.to_string())
    }
}
