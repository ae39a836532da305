//! Tags cib does not know (`!Rain::Embed`, `!Rain::Module`, ...): kept as they are outside
//! our resources so cib can run before or after another pre-processor (CIB060, a warning);
//! inside a `Custom::ContainerImageBuild` resource cib cannot know what the node means, so it
//! is an error (CIB061).

use serde_json::Value;

use super::ids;
use crate::finding::Finding;
use crate::template::unknown_tags;

/// The type of our resource.
const IMAGE_TYPE: &str = "Custom::ContainerImageBuild";

/// The findings for every node of `template` (as written) that has a tag cib does not know.
pub fn check(template: &Value) -> Vec<Finding> {
    unknown_tags(template)
        .into_iter()
        .map(|(path, tag)| {
            let resource_id = resource_of(&path).map(str::to_owned);
            let resource = resource_id.as_deref();
            let ours = resource
                .and_then(|id| template.get("Resources")?.get(id)?.get("Type"))
                .and_then(Value::as_str)
                == Some(IMAGE_TYPE);
            if ours {
                Finding::error(
                    ids::UNKNOWN_TAG_IN_IMAGE,
                    resource,
                    path,
                    format!(
                        "the YAML tag `{tag}` is not a CloudFormation function, and cib cannot \
                         tell what it stands for inside {IMAGE_TYPE}"
                    ),
                    format!("run the tool that reads `{tag}` before cib, or write the value out"),
                )
            } else {
                Finding::warning(
                    ids::UNKNOWN_TAG_KEPT,
                    resource,
                    path,
                    format!(
                        "the YAML tag `{tag}` is not a CloudFormation function; it is kept as \
                         it is for the tool that reads it (JSON output cannot hold it)"
                    ),
                    format!(
                        "run the tool that reads `{tag}` before deploying; write YAML, not JSON"
                    ),
                )
            }
        })
        .collect()
}

/// The logical id in a path `Resources.<id>...`, when the path is in `Resources`.
fn resource_of(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("Resources.")?;
    let end = rest.find(['.', '[']).unwrap_or(rest.len());
    rest.get(..end).filter(|id| !id.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::parse_yaml;

    #[test]
    fn resource_of_a_path() {
        assert_eq!(resource_of("Resources.Fn.Properties.Code"), Some("Fn"));
        assert_eq!(resource_of("Resources.Fn"), Some("Fn"));
        assert_eq!(resource_of("Resources.L[0]"), Some("L"));
        assert_eq!(resource_of("Outputs.X"), None);
    }

    #[test]
    fn warns_outside_and_refuses_inside_our_resource() {
        let template = parse_yaml(
            "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      \
             Code: {ZipFile: !Rain::Embed f.js}\n  Img:\n    Type: Custom::ContainerImageBuild\n    \
             Properties:\n      BuildArgs: {A: !Rain::Env X}\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let findings = check(&template);
        assert_eq!(findings.len(), 2, "{findings:?}");
        assert_eq!(findings[0].id, ids::UNKNOWN_TAG_KEPT);
        assert_eq!(findings[0].path, "Resources.Fn.Properties.Code.ZipFile");
        assert!(findings[0].message.contains("!Rain::Embed"));
        assert_eq!(findings[1].id, ids::UNKNOWN_TAG_IN_IMAGE);
        assert_eq!(findings[1].resource.as_deref(), Some("Img"));
    }
}
