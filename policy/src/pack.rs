//! The project's own rules, embedded from `policy/rules/` (one file per concern).

use crate::{Origin, RuleFile};

/// Every rule file of the pack: (file name, text).
pub const PACK: &[(&str, &str)] = &[
    (
        "codebuild_project.guard",
        include_str!("../rules/codebuild_project.guard"),
    ),
    (
        "ecr_repository.guard",
        include_str!("../rules/ecr_repository.guard"),
    ),
    ("iam_scope.guard", include_str!("../rules/iam_scope.guard")),
    (
        "template_size.guard",
        include_str!("../rules/template_size.guard"),
    ),
    ("trigger.guard", include_str!("../rules/trigger.guard")),
];

/// The pack as rule files, named `policy/rules/<file>`.
pub fn pack() -> Vec<RuleFile> {
    PACK.iter()
        .map(|(name, text)| RuleFile {
            name: format!("policy/rules/{name}"),
            text: (*text).to_owned(),
            origin: Origin::Pack,
        })
        .collect()
}
