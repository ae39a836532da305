//! A fixed `ImageTag` whose content was built before: the fixed tag moves back to that
//! image instead of a build.
//!
//! Every build of an image with a fixed tag also pushes its content tag
//! (`cib_trigger::content_tag`), so the digest a stack once pointed at stays tagged (the
//! untagged rule never expires it) and an update rollback, or a deploy of inputs built
//! before, finds it: one `PutImage` of the same manifest under the fixed tag in the
//! (mutable) repository, answered at once.

use serde_json::Value;

use cib_registry::{Destination, EcrRepository, Source};

use crate::aws::ecr::{self, Lookup};
use crate::error::ProviderError;
use crate::event::CfnRequest;
use crate::gate::repository::stack_repository;
use crate::log::LogContext;
use crate::properties::TriggerProperties;
use crate::provider::Provider;
use crate::response::{Status, answer_for, image_attributes};

impl Provider {
    /// When `props` (with the fixed tag `fixed`) name content whose tag exists in the home
    /// repository, moves `fixed` to that image and answers; `None` when a build is needed
    /// (no such image, replica regions, or a repository the provider may not write, whose
    /// tag the build moves instead).
    pub(crate) async fn retag_from_content(
        &self,
        request: &CfnRequest,
        props: &TriggerProperties,
        fixed: &str,
        physical_id: &str,
        log: &LogContext,
    ) -> Option<Result<Value, ProviderError>> {
        if !props.replica_regions.is_empty()
            || stack_repository(&props.repository_name, &request.stack_id).is_err()
        {
            return None;
        }
        let content = cib_trigger::tag::content_tag(props).ok()?;
        let Ok(Lookup::Found(digest)) =
            ecr::image_lookup(&self.clients.ecr, &props.repository_name, &content).await
        else {
            return None;
        };
        // A registry write: only what the stack's template says.
        if let Err(refusal) = self.verify_content(request).await {
            return Some(refusal.outcome(log));
        }
        let repository = EcrRepository::new(self.clients.ecr.clone(), &props.repository_name);
        let moved = match repository.manifest(&digest, None).await {
            Ok(manifest) => repository.put_manifest(&manifest, Some(fixed)).await,
            Err(e) => Err(e),
        };
        let response = match moved {
            Ok(_) => {
                log.info(
                    "fixed tag moved to the image its content tag names; no build needed",
                    serde_json::json!({"tag": fixed, "contentTag": content, "digest": digest}),
                );
                let mut ok = answer_for(request, physical_id, Status::Success, String::new());
                ok.data = image_attributes(props, fixed, &digest, &self.clients.home_region);
                ok
            }
            Err(e) => answer_for(
                request,
                physical_id,
                Status::Failed,
                format!(
                    "moving {}:{fixed} to {digest} (the image its content tag {content} names): {e}",
                    props.repository_name
                ),
            ),
        };
        Some(self.answer(log, &request.response_url, response).await)
    }
}
