//! Rule files that cannot be used: each is an error naming the file, never a panic.

use cib_policy::{Origin, PolicyError, RULES_ERROR_ID, RuleFile};
use serde_json::json;

fn user(name: &str, text: &str) -> RuleFile {
    RuleFile {
        name: name.into(),
        text: text.into(),
        origin: Origin::User,
    }
}

fn template() -> serde_json::Value {
    json!({"Resources": {
        "Img": {"Type": "Custom::ContainerImageBuild", "Properties": {"RepositoryName": {"Ref": "ImgRepository"}}},
        "ImgRepository": {"Type": "AWS::ECR::Repository"}
    }})
}

#[test]
fn a_syntax_error_names_the_file() {
    let rules = [user(
        "broken.guard",
        "rule broken {\n  Resources.*.Type == \n",
    )];
    match cib_policy::evaluate(&template(), &rules) {
        Err(PolicyError::Parse { file, .. }) => assert_eq!(file, "broken.guard"),
        other => panic!("{other:?}"),
    }
    // The pack still runs (and fails this bare template); the file is one error finding.
    let findings = cib_policy::check(&template(), &rules);
    let errors: Vec<_> = findings.iter().filter(|f| f.id == RULES_ERROR_ID).collect();
    assert_eq!(errors.len(), 1, "{findings:?}");
    assert_eq!(errors[0].path, "broken.guard");
    assert!(findings.iter().any(|f| f.id == cib_policy::PACK_FINDING_ID));
}

#[test]
fn a_rule_that_makes_cfn_guard_panic_is_an_evaluation_error() {
    // cfn-guard 3.2.1 reaches an `unreachable!` on a filter chained after a `keys IN` filter.
    let text = "let ids = Resources.*[ Type == 'Custom::ContainerImageBuild' ].Properties.RepositoryName.Ref\n\
                let repos = Resources[ keys IN %ids ][ Type == 'AWS::ECR::Repository' ]\n\
                rule t when %repos !empty {\n  %repos.Properties.X exists\n}\n";
    match cib_policy::evaluate(&template(), &[user("panics.guard", text)]) {
        Err(PolicyError::Evaluate { file, message }) => {
            assert_eq!(file, "panics.guard");
            assert!(message.contains("panicked"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_missing_path_or_an_empty_directory_is_a_read_error() {
    assert!(matches!(
        cib_policy::load_rules(std::path::Path::new("no/such/file.guard")),
        Err(PolicyError::Read { .. })
    ));
    let dir = tempfile_dir();
    assert!(matches!(
        cib_policy::load_rules(&dir),
        Err(PolicyError::Read { .. })
    ));
    let _ = std::fs::remove_dir(&dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cib-policy-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create dir");
    dir
}
