//! Which CodeBuild project a trigger may start: only one of the requesting stack's own.
//!
//! The trigger names its project (`ProjectName`) and brings its buildspec, and anyone who
//! can create a stack with a custom resource pointed at the provider could name another
//! stack's project and run commands under that project's role. The provider starts a
//! project only when its name has the shape the expansion writes
//! (`<stack name>-ContainerImageBuildProject...`, the same pattern the support stack's IAM
//! statement allows) and its `aws:cloudformation:stack-id` tag (set by CloudFormation on the
//! resources it creates; users cannot set `aws:` tags) equals the request's `StackId`.

use cib_contract::PROJECT_ID_PREFIX;

/// The tag CloudFormation puts on every taggable resource it creates, naming its stack
/// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-resource-tags.html).
pub const STACK_ID_TAG: &str = "aws:cloudformation:stack-id";

/// What the provider learnt about a project from CodeBuild's BatchGetProjects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectInfo {
    /// The project's tags (key, value).
    pub tags: Vec<(String, String)>,
}

/// Whether `name` has the shape of a project the expansion writes: `<stack name>-` followed
/// by `ContainerImageBuildProject` and the environment suffix (IAM pattern
/// `project/*-ContainerImageBuildProject*`).
pub fn has_project_name_shape(name: &str) -> bool {
    name.contains(&format!("-{PROJECT_ID_PREFIX}"))
}

/// `Ok` when `project` (the project named `name`, `None` when BatchGetProjects did not
/// find it) may be started for a request of stack `stack_id`; otherwise the FAILED reason.
pub fn check(name: &str, project: Option<&ProjectInfo>, stack_id: &str) -> Result<(), String> {
    if !has_project_name_shape(name) {
        return Err(format!(
            "property ProjectName: `{name}` is not a ContainerImageBuild project (expected \
             `<stack name>-{PROJECT_ID_PREFIX}...`, as the expansion names them); the \
             provider starts only the requesting stack's own projects"
        ));
    }
    let Some(project) = project else {
        return Err(format!(
            "property ProjectName: CodeBuild project `{name}` does not exist (BatchGetProjects \
             did not find it)"
        ));
    };
    match project.tags.iter().find(|(k, _)| k == STACK_ID_TAG) {
        Some((_, owner)) if owner == stack_id => Ok(()),
        Some((_, owner)) => Err(format!(
            "property ProjectName: CodeBuild project `{name}` belongs to stack {owner}, not to \
             this stack ({stack_id}); the provider starts only the requesting stack's own \
             projects"
        )),
        None => Err(format!(
            "property ProjectName: CodeBuild project `{name}` has no `{STACK_ID_TAG}` tag, so \
             it was not created by this stack ({stack_id}); the provider starts only the \
             requesting stack's own projects"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STACK: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1111";
    const NAME: &str = "app-ContainerImageBuildProjectArm64";

    fn tagged(stack: &str) -> ProjectInfo {
        ProjectInfo {
            tags: vec![
                ("team".into(), "x".into()),
                (STACK_ID_TAG.into(), stack.into()),
            ],
        }
    }

    #[test]
    fn the_stacks_own_project_may_be_started() {
        assert_eq!(check(NAME, Some(&tagged(STACK)), STACK), Ok(()));
    }

    #[test]
    fn another_stacks_project_is_refused_with_the_owner() {
        let other = "arn:aws:cloudformation:us-east-1:123456789012:stack/victim/2222";
        let e = check(NAME, Some(&tagged(other)), STACK).expect_err("foreign");
        assert!(e.contains("belongs to stack") && e.contains(other), "{e}");
        assert!(e.starts_with("property ProjectName"), "{e}");
    }

    #[test]
    fn untagged_missing_and_oddly_named_projects_are_refused() {
        let untagged = ProjectInfo { tags: Vec::new() };
        assert!(
            check(NAME, Some(&untagged), STACK)
                .expect_err("untagged")
                .contains("has no `aws:cloudformation:stack-id` tag")
        );
        assert!(
            check(NAME, None, STACK)
                .expect_err("missing")
                .contains("does not exist")
        );
        assert!(
            check("deploy-prod", Some(&tagged(STACK)), STACK)
                .expect_err("shape")
                .contains("not a ContainerImageBuild project")
        );
    }
}
