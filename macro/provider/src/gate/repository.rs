//! The one rule for every registry write the provider makes itself (a tarball push, a
//! multi-platform index, a replica back-fill copy, a tag removal): only into the requesting
//! stack's own generated repositories, `cib/<id>-<stack uuid>`.
//!
//! The provider's role may write every `cib/...` repository of the account (one role serves
//! every stack), so without this rule a stack whose template names another stack's
//! repository could have the provider push into it. Builds are not concerned: they push
//! under the stack's own build role, which IAM scopes to the stack's repositories. Pure.

/// `Ok` when the provider may write into `repository` for the stack `stack_id`; otherwise
/// the FAILED reason, naming the property.
pub fn stack_repository(repository: &str, stack_id: &str) -> Result<(), String> {
    let generated = repository
        .strip_prefix(cib_contract::REPOSITORY_NAMESPACE)
        .is_some_and(|rest| rest.starts_with('/'));
    let owned = generated
        && cib_contract::stack_uuid(stack_id)
            .is_some_and(|uuid| repository.ends_with(&format!("-{uuid}")));
    if owned {
        return Ok(());
    }
    Err(format!(
        "property RepositoryName: the provider writes only into the requesting stack's own \
         generated repositories ({}/<id>-<stack uuid>), and `{repository}` is not one of \
         this stack's",
        cib_contract::REPOSITORY_NAMESPACE
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STACK: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/s/11111111-2222-3333-4444-555555555555";

    #[test]
    fn only_the_stacks_own_generated_repositories_are_written() {
        assert_eq!(
            stack_repository("cib/web-11111111-2222-3333-4444-555555555555", STACK),
            Ok(())
        );
        for other in [
            "cib/web-99999999-2222-3333-4444-555555555555",
            "web-11111111-2222-3333-4444-555555555555",
            "cibx/web-11111111-2222-3333-4444-555555555555",
            "cib-cache/11111111-2222-3333-4444-555555555555",
            "my-team/web",
        ] {
            let e = stack_repository(other, STACK).expect_err(other);
            assert!(
                e.contains(other) && e.starts_with("property RepositoryName"),
                "{e}"
            );
        }
        assert!(stack_repository("cib/web-1", "not-an-arn").is_err());
    }
}
