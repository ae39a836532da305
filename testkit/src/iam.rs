//! IAM's inline-policy size per role, checked on an expanded template.
//!
//! moto's CloudFormation creates a role whatever the size of its policies; IAM refuses a role
//! whose inline policies add up to more than [`ROLE_INLINE_POLICY_MAX`] characters, not
//! counting whitespace ("Role policy size cannot exceed 10,240 characters ... IAM does not
//! count white space when calculating the size of a policy", IAM User Guide, IAM and AWS STS
//! quotas; `GetAccountSummary`'s `RolePolicySizeQuota`).
//!
//! The size is that of the policy as IAM receives it, after CloudFormation resolves
//! intrinsic functions, which a template does not know. The estimate here counts the
//! template's policy JSON without whitespace, with the pseudo parameters that have a
//! longest value (`AWS::Partition`, `AWS::Region`, `AWS::AccountId`, `AWS::URLSuffix`, in
//! `Ref` or `Fn::Sub`) at that length and everything else (other references, `Fn::Join`,
//! `Fn::Select`) as written.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Most characters of inline policy per role, whitespace not counted (see the module docs).
pub const ROLE_INLINE_POLICY_MAX: usize = 10_240;

/// The longest value of each pseudo parameter that has one: `aws-us-gov`, a 14-character
/// region code (`ap-southeast-5`), a 12-digit account, `amazonaws.com.cn`.
const LONGEST_PSEUDO: &[(&str, &str)] = &[
    ("AWS::Partition", "aws-us-gov"),
    ("AWS::Region", "ap-southeast-5"),
    ("AWS::AccountId", "123456789012"),
    ("AWS::URLSuffix", "amazonaws.com.cn"),
];

/// The estimated inline-policy size of every role of `template` that has inline policies,
/// by the role's logical id (or its literal name, for a policy attached by name): the
/// role's own `Policies` plus every `AWS::IAM::Policy` and `AWS::IAM::RolePolicy` attached
/// to it.
pub fn role_inline_policy_sizes(template: &Value) -> BTreeMap<String, usize> {
    let mut sizes: BTreeMap<String, usize> = BTreeMap::new();
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return sizes;
    };
    for (id, resource) in resources {
        let properties = resource.get("Properties").unwrap_or(&Value::Null);
        match resource.get("Type").and_then(Value::as_str) {
            Some("AWS::IAM::Role") => {
                for policy in properties
                    .get("Policies")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(document) = policy.get("PolicyDocument") {
                        *sizes.entry(id.clone()).or_default() += policy_size(document);
                    }
                }
            }
            Some("AWS::IAM::Policy") | Some("AWS::IAM::RolePolicy") => {
                let Some(document) = properties.get("PolicyDocument") else {
                    continue;
                };
                let size = policy_size(document);
                let roles = properties
                    .get("Roles")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .chain(properties.get("RoleName").cloned());
                for role in roles {
                    if let Some(key) = role_key(&role) {
                        *sizes.entry(key).or_default() += size;
                    }
                }
            }
            _ => {}
        }
    }
    sizes
}

/// Fails, naming each role and its size, when a role of `template` has more than
/// [`ROLE_INLINE_POLICY_MAX`] characters of inline policy.
pub fn check_role_inline_policy_sizes(template: &Value) -> Result<(), String> {
    let over: Vec<String> = role_inline_policy_sizes(template)
        .into_iter()
        .filter(|(_, size)| *size > ROLE_INLINE_POLICY_MAX)
        .map(|(role, size)| {
            format!(
                "role {role}: its inline policies are {size} characters without whitespace, \
                 over IAM's {ROLE_INLINE_POLICY_MAX} per role"
            )
        })
        .collect();
    if over.is_empty() {
        Ok(())
    } else {
        Err(over.join("; "))
    }
}

/// The size IAM counts for one policy document: its JSON without whitespace.
pub fn policy_size(document: &Value) -> usize {
    resolve(document)
        .to_string()
        .chars()
        .filter(|c| !c.is_whitespace())
        .count()
}

fn role_key(role: &Value) -> Option<String> {
    match role {
        Value::String(name) => Some(name.clone()),
        Value::Object(m) => m.get("Ref").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// `value` with pseudo parameters that have a longest value replaced by it.
fn resolve(value: &Value) -> Value {
    match value {
        Value::Object(m) if m.len() == 1 => {
            if let Some(Value::String(name)) = m.get("Ref")
                && let Some((_, longest)) = LONGEST_PSEUDO.iter().find(|(p, _)| p == name)
            {
                return Value::String((*longest).to_string());
            }
            if let Some(Value::String(text)) = m.get("Fn::Sub") {
                return Value::String(substitute(text));
            }
            Value::Object(resolve_map(m))
        }
        Value::Object(m) => Value::Object(resolve_map(m)),
        Value::Array(items) => Value::Array(items.iter().map(resolve).collect()),
        other => other.clone(),
    }
}

fn resolve_map(m: &Map<String, Value>) -> Map<String, Value> {
    m.iter().map(|(k, v)| (k.clone(), resolve(v))).collect()
}

fn substitute(text: &str) -> String {
    LONGEST_PSEUDO
        .iter()
        .fold(text.to_string(), |acc, (name, longest)| {
            acc.replace(&format!("${{{name}}}"), longest)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn role_with(resource: &str) -> Value {
        json!({"Resources": {"BuildRole": {"Type": "AWS::IAM::Role", "Properties": {
            "Policies": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "ecr:PutImage", "Resource": resource}]}}]
        }}}})
    }

    #[test]
    fn whitespace_is_not_counted_and_pseudo_parameters_count_at_their_longest() {
        assert_eq!(policy_size(&json!({"A": "b c"})), r#"{"A":"bc"}"#.len());
        let sub = json!({"Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/x"});
        assert_eq!(
            policy_size(&sub),
            "\"arn:aws-us-gov:ecr:ap-southeast-5:123456789012:repository/x\"".len()
        );
        assert_eq!(policy_size(&json!({"Ref": "AWS::Partition"})), 12);
        assert_eq!(
            policy_size(&json!({"Ref": "Bucket"})),
            r#"{"Ref":"Bucket"}"#.len()
        );
    }

    #[test]
    fn a_role_over_the_limit_is_named_and_one_at_the_limit_passes() {
        let base = role_inline_policy_sizes(&role_with(""))["BuildRole"];
        let at_limit = role_with(&"r".repeat(ROLE_INLINE_POLICY_MAX - base));
        assert_eq!(
            role_inline_policy_sizes(&at_limit)["BuildRole"],
            ROLE_INLINE_POLICY_MAX
        );
        assert_eq!(check_role_inline_policy_sizes(&at_limit), Ok(()));
        let over = role_with(&"r".repeat(ROLE_INLINE_POLICY_MAX - base + 1));
        let error = check_role_inline_policy_sizes(&over).expect_err("over");
        assert!(error.contains("role BuildRole"), "{error}");
        assert!(error.contains("10241 characters"), "{error}");
    }

    #[test]
    fn separate_policy_resources_count_towards_the_roles_they_attach_to() {
        let document = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "x".repeat(6000)}]});
        let template = json!({"Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyName": "a", "PolicyDocument": document}]}},
            "Extra": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyName": "b", "PolicyDocument": document, "Roles": [{"Ref": "Role"}]}},
            "Named": {"Type": "AWS::IAM::RolePolicy", "Properties": {"PolicyName": "c", "PolicyDocument": {"Statement": []}, "RoleName": "fixed-name"}}
        }});
        let sizes = role_inline_policy_sizes(&template);
        assert_eq!(sizes["Role"], 2 * policy_size(&document));
        assert!(sizes.contains_key("fixed-name"));
        let error = check_role_inline_policy_sizes(&template).expect_err("over");
        assert!(error.starts_with("role Role:"), "{error}");
    }
}
