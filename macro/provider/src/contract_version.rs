//! The trigger's `ContractVersion`: which version of the property contract
//! (docs/expansion.md) the expansion that wrote the trigger followed.

use cib_contract::{CONTRACT_VERSION, SAME_MEANING_CONTRACT_VERSIONS};

/// The previous contract: its builds lack what this provider's builds need (the response
/// parameter the CodeBuild role may read, the builder image, the cache repository), but
/// an image it built is still answered from ECR, so rollbacks to such a template work.
pub const PREVIOUS_CONTRACT_VERSION: &str = "1";

/// What the provider may do for a trigger of a given contract version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// The current contract: everything.
    Full,
    /// The previous contract: answer from an image that exists, never start a build.
    ExistingImagesOnly,
}

/// How far the provider supports `version`; the FAILED reason when not at all.
pub fn support(version: Option<&str>) -> Result<Support, String> {
    match version {
        Some(v) if v == CONTRACT_VERSION || SAME_MEANING_CONTRACT_VERSIONS.contains(&v) => {
            Ok(Support::Full)
        }
        Some(PREVIOUS_CONTRACT_VERSION) => Ok(Support::ExistingImagesOnly),
        Some(other) => Err(format!(
            "property ContractVersion: `{other}` is not a version this provider knows (it \
             speaks {CONTRACT_VERSION}); update the support stack (`cib bootstrap`) to the \
             version of cib that expanded the template, or expand the template with this \
             provider's version"
        )),
        None => Err(format!(
            "property ContractVersion: is required (this provider speaks \
             {CONTRACT_VERSION}); expand the template with cib of the support stack's version"
        )),
    }
}

/// The FAILED reason for a trigger of the previous contract whose image must be built.
pub fn rebuild_refused() -> String {
    format!(
        "property ContractVersion: this trigger was expanded for contract \
         {PREVIOUS_CONTRACT_VERSION}, whose builds this provider (contract {CONTRACT_VERSION}) \
         no longer starts; expand the template again with the support stack's version of cib \
         and deploy that (images that already exist are still answered)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_versions_are_accepted() {
        assert_eq!(support(Some("3")), Ok(Support::Full));
        assert_eq!(support(Some("2")), Ok(Support::Full));
        assert_eq!(support(Some("1")), Ok(Support::ExistingImagesOnly));
        let e = support(Some("4")).expect_err("unknown");
        assert!(e.contains("ContractVersion") && e.contains("`4`"), "{e}");
        assert!(support(None).expect_err("missing").contains("is required"));
    }
}
