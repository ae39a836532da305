//! What the provider checks and stores before it starts a build, and how the build-state
//! flow gets the response URL back. Kept apart from [`crate::flows::build`] so that flow
//! stays a sequence of calls.
//!
//! Before StartBuild: the project must be the requesting stack's own ([`crate::ownership`]),
//! the support stack must name a builder image, every override value must fit CodeBuild's
//! limit ([`crate::long_values`]), and the response URL is stored in its SSM parameter
//! ([`crate::gate::response_url`]). Any failure is a FAILED reason, given before a build exists.

use serde_json::json;

use crate::aws::{codebuild, ssm};
use crate::build_request::{BuildContext, BuildRequest, build_request};
use crate::event::CfnRequest;
use crate::gate::response_url;
use crate::log::LogContext;
use crate::properties::TriggerProperties;
use crate::provider::Provider;
use crate::{long_values, ownership};

/// Why the build-state path does not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAnswered(pub String);

impl Provider {
    /// The StartBuild request for `request`, once every check passed and the response URL
    /// is stored; otherwise the FAILED reason.
    pub(crate) async fn prepare_build(
        &self,
        request: &CfnRequest,
        props: &TriggerProperties,
        tag: &str,
        physical_id: &str,
        request_mark: &str,
    ) -> Result<BuildRequest, String> {
        let project = if ownership::has_project_name_shape(&props.project_name) {
            codebuild::project_info(&self.clients.codebuild, &props.project_name)
                .await
                .map_err(|e| format!("cannot look up CodeBuild project: {e}"))?
        } else {
            None
        };
        ownership::check(&props.project_name, project.as_ref(), &request.stack_id)?;
        if self.settings.builder_image.is_empty() {
            return Err(
                "the provider has no builder image: the support stack's BuilderImage \
                        parameter is empty (run `cib bootstrap` again)"
                    .into(),
            );
        }
        let response_parameter = response_url::parameter_name(request).ok_or_else(|| {
            format!(
                "StackId `{}` is not a CloudFormation stack ARN; cannot name the response \
                 parameter",
                request.stack_id
            )
        })?;
        let context = BuildContext {
            response_parameter,
            builder_image: self.settings.builder_image.clone(),
        };
        let build = build_request(request, props, tag, physical_id, request_mark, &context);
        long_values::check(&build, props).map_err(|e| e.to_string())?;
        ssm::put_secure(
            &self.clients.ssm,
            &context.response_parameter,
            &request.response_url,
        )
        .await
        .map_err(|e| format!("cannot store the response URL for the build: {e}"))?;
        Ok(build)
    }

    /// Deletes the response parameter of a build that did not start (best effort: a
    /// leftover parameter holds an expired URL and nothing else).
    pub(crate) async fn discard_response_parameter(&self, build: &BuildRequest, log: &LogContext) {
        let Some(name) = build
            .variables
            .iter()
            .find(|v| v.name == "CIB_RESPONSE_PARAMETER")
            .map(|v| v.value.as_str())
        else {
            return;
        };
        if let Err(e) = ssm::delete(&self.clients.ssm, name).await {
            log.warn(
                "cannot delete the response parameter",
                json!({"parameter": name, "error": e.to_string()}),
            );
        }
    }

    /// The response URL of a build of project `project_name` for stack `stack_id` whose
    /// response parameter is `parameter`: only when the parameter is one of that stack's,
    /// the project is that stack's own (a build's variables are whatever its starter set,
    /// so a build of another project could name this stack), and the stored value is
    /// CloudFormation's response URL.
    pub(crate) async fn stored_response_url(
        &self,
        project_name: &str,
        parameter: &str,
        stack_id: &str,
    ) -> Result<String, NotAnswered> {
        if !response_url::is_parameter_of(parameter, stack_id) {
            return Err(NotAnswered(format!(
                "response parameter `{parameter}` is not one of stack {stack_id}"
            )));
        }
        let project = codebuild::project_info(&self.clients.codebuild, project_name)
            .await
            .map_err(|e| NotAnswered(format!("cannot look up the build's project: {e}")))?;
        ownership::check(project_name, project.as_ref(), stack_id).map_err(NotAnswered)?;
        let url = ssm::get_secure(&self.clients.ssm, parameter)
            .await
            .map_err(|e| NotAnswered(format!("cannot read the response URL: {e}")))?;
        if !self.trusted_response_url(&url) {
            return Err(NotAnswered(
                "the stored response URL is not CloudFormation's response bucket".into(),
            ));
        }
        Ok(url)
    }

    /// Deletes a response parameter after the build-state path answered (failure logged).
    pub(crate) async fn delete_response_parameter(&self, parameter: &str, log: &LogContext) {
        match ssm::delete(&self.clients.ssm, parameter).await {
            Ok(()) => log.info(
                "response parameter deleted",
                json!({"parameter": parameter}),
            ),
            Err(e) => log.warn(
                "cannot delete the response parameter",
                json!({"parameter": parameter, "error": e.to_string()}),
            ),
        }
    }
}
