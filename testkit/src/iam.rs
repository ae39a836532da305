//! A role's policies as IAM holds them, and IAM's inline-policy size per role, both read
//! from a template.
//!
//! [`role_policies`] resolves a role's identity policies (its own `Policies` and every
//! `AWS::IAM::Policy`/`RolePolicy` attached to it) against a stack context, for the strict
//! layer to enforce ([`crate::strict::authorize`]).
//!
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

/// The identity-policy documents `role` (a logical id) of `template` (long-form JSON) holds
/// once deployed with `context` (parameters, pseudo parameters, physical ids and the
/// attributes the test knows): its inline `Policies` and every `AWS::IAM::Policy` or
/// `AWS::IAM::RolePolicy` that names it.
///
/// Panics (a fixture error, so a failing test) when the role is missing, holds managed
/// policies this cannot read, or a value stays unresolved.
pub fn role_policies(
    template: &Value,
    role: &str,
    context: &cib_trigger::resolve::Context,
) -> Vec<Value> {
    let resources = template
        .get("Resources")
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("the template has no Resources"));
    let declared = resources
        .get(role)
        .filter(|r| r.get("Type").and_then(Value::as_str) == Some("AWS::IAM::Role"))
        .unwrap_or_else(|| panic!("the template has no role {role}"));
    if declared.pointer("/Properties/ManagedPolicyArns").is_some() {
        panic!("role {role} has managed policies, which the strict layer cannot read");
    }
    let mut documents: Vec<&Value> = declared
        .pointer("/Properties/Policies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("PolicyDocument"))
        .collect();
    for resource in resources.values() {
        let kind = resource.get("Type").and_then(Value::as_str);
        if !matches!(kind, Some("AWS::IAM::Policy" | "AWS::IAM::RolePolicy")) {
            continue;
        }
        let properties = resource.get("Properties").unwrap_or(&Value::Null);
        let names_role = properties
            .get("Roles")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .chain(properties.get("RoleName"))
            .any(|r| r.get("Ref").and_then(Value::as_str) == Some(role));
        if names_role && let Some(document) = properties.get("PolicyDocument") {
            documents.push(document);
        }
    }
    let mut resolver = cib_trigger::resolve::Resolver::new(template, context);
    documents
        .into_iter()
        .map(|document| {
            let resolved = resolver.resolve(document).unwrap_or(Value::Null);
            let mut unknown = Vec::new();
            cib_trigger::resolve::placeholders(&resolved, "", &mut unknown);
            if let Some((path, index)) = unknown.first() {
                let cause = resolver
                    .cause(*index)
                    .map(|c| format!("{}: {}", c.intrinsic, c.why))
                    .unwrap_or_default();
                panic!("role {role}: {path} is not known to the test ({cause})");
            }
            resolved
        })
        .collect()
}

/// The context of `template` (long-form JSON) once deployed with `pseudo` (the stack's
/// pseudo parameters) and `parameters`: the physical id of each resource that names itself
/// (`RepositoryName`, `LogGroupName`, `TableName`, `Name`, resolved), a generated one
/// (`<stack name>-<logical id>-<suffix>`, as CloudFormation names the others) for every
/// other resource, and the attributes of its ECR repositories. Enough to resolve the roles
/// a template writes.
pub fn deployed_context(
    template: &Value,
    pseudo: BTreeMap<String, String>,
    parameters: BTreeMap<String, Value>,
) -> cib_trigger::resolve::Context {
    let mut context = cib_trigger::resolve::Context {
        parameters,
        pseudo,
        ..Default::default()
    };
    let named: Vec<(String, String)> = {
        let mut resolver = cib_trigger::resolve::Resolver::new(template, &context);
        template
            .get("Resources")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(id, resource)| {
                let properties = resource.get("Properties")?;
                let name = ["RepositoryName", "LogGroupName", "TableName", "Name"]
                    .iter()
                    .find_map(|key| properties.get(*key))?;
                let resolved = resolver.resolve(name)?;
                let text = resolved.as_str()?;
                (cib_trigger::resolve::placeholder(&resolved).is_none())
                    .then(|| (id.clone(), text.to_string()))
            })
            .collect()
    };
    context.physical_ids.extend(named);
    let stack_name = context
        .pseudo
        .get("AWS::StackName")
        .cloned()
        .unwrap_or_default();
    for id in template
        .get("Resources")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|r| r.keys())
    {
        context
            .physical_ids
            .entry(id.clone())
            .or_insert_with(|| format!("{stack_name}-{id}-1A2B3C4D5E6F"));
    }
    cib_trigger::stack_context::repository_attributes(template, &mut context);
    context
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
