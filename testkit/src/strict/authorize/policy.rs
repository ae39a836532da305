//! Identity-policy evaluation as IAM does it, for the statements our policies use.
//!
//! IAM's evaluation logic for one principal's identity-based policies
//! (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
//! an explicit `Deny` that matches wins; otherwise the request is allowed only when an
//! `Allow` statement matches its action, its resource and every condition. A request that
//! touches several resources (a batch call) must be allowed on each.
//!
//! Matching (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html,
//! `..._resource.html`): actions are case-insensitive, resources case-sensitive; `*` matches
//! any run of characters (also across `/` and `:`), `?` one character. Condition operators
//! (`..._condition_operators.html`): the string, ARN, `Bool` and `Null` families, with
//! `IfExists`; a key the request does not carry makes a condition false, except under
//! `...IfExists` and `Null`. An operator not listed here is refused loudly (the evaluation
//! would be a guess).

use std::collections::BTreeMap;

use serde_json::Value;

/// What IAM evaluates a request as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `service:Operation`, e.g. `ecr:PutImage`.
    pub action: String,
    /// The resource ARNs the request touches (`*` for actions without a resource type).
    pub resources: Vec<String>,
    /// Condition keys the request carries (lower-case names), e.g. `iam:awsservicename`.
    pub context: BTreeMap<String, Vec<String>>,
}

/// Why a request is denied: the action and resource, and what the policies said of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// The action.
    pub action: String,
    /// The resource no statement allowed (or one denied).
    pub resource: String,
    /// What a statement would need: the statements that allow the action elsewhere, or
    /// the one that denies it.
    pub reason: String,
}

/// Evaluates `request` against `policies` (identity-policy documents of one principal).
pub fn evaluate(policies: &[Value], request: &Request) -> Result<(), Denial> {
    let statements: Vec<&Value> = policies.iter().flat_map(statements_of).collect();
    for resource in &request.resources {
        let mut allowed = false;
        for statement in &statements {
            if !matches(statement, request, resource)? {
                continue;
            }
            if statement.get("Effect").and_then(Value::as_str) == Some("Deny") {
                return Err(Denial {
                    action: request.action.clone(),
                    resource: resource.clone(),
                    reason: format!("explicitly denied by statement {}", sid(statement)),
                });
            }
            allowed = true;
        }
        if !allowed {
            return Err(Denial {
                action: request.action.clone(),
                resource: resource.clone(),
                reason: lacking(&statements, request),
            });
        }
    }
    Ok(())
}

/// What the statements say of the action, for a denial's message.
fn lacking(statements: &[&Value], request: &Request) -> String {
    let naming: Vec<String> = statements
        .iter()
        .filter(|s| {
            s.get("Effect").and_then(Value::as_str) == Some("Allow")
                && action_matches(s, &request.action)
        })
        .map(|s| {
            format!(
                "{} (Resource {}{})",
                sid(s),
                s.get("Resource")
                    .or(s.get("NotResource"))
                    .unwrap_or(&Value::Null),
                s.get("Condition")
                    .map(|c| format!(", Condition {c}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    if naming.is_empty() {
        format!(
            "no identity-based policy allows the {} action: a statement with it is lacking",
            request.action
        )
    } else {
        format!(
            "no statement allows it on this resource; the statements with {} are: {}",
            request.action,
            naming.join("; ")
        )
    }
}

fn sid(statement: &Value) -> String {
    statement
        .get("Sid")
        .and_then(Value::as_str)
        .map_or_else(|| statement.to_string(), str::to_string)
}

fn statements_of(policy: &Value) -> Vec<&Value> {
    match policy.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

/// One string or a list of strings.
fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn action_matches(statement: &Value, action: &str) -> bool {
    let action = action.to_ascii_lowercase();
    let any = |key: &str| {
        strings(statement.get(key))
            .iter()
            .any(|p| wildcard(&p.to_ascii_lowercase(), &action))
    };
    if statement.get("NotAction").is_some() {
        !any("NotAction")
    } else {
        any("Action")
    }
}

fn resource_matches(statement: &Value, resource: &str) -> bool {
    let any = |key: &str| {
        strings(statement.get(key))
            .iter()
            .any(|p| wildcard(p, resource))
    };
    if statement.get("NotResource").is_some() {
        !any("NotResource")
    } else {
        any("Resource")
    }
}

fn matches(statement: &Value, request: &Request, resource: &str) -> Result<bool, Denial> {
    if !action_matches(statement, &request.action) || !resource_matches(statement, resource) {
        return Ok(false);
    }
    let Some(conditions) = statement.get("Condition").and_then(Value::as_object) else {
        return Ok(true);
    };
    for (operator, keys) in conditions {
        let Some(keys) = keys.as_object() else {
            return Ok(false);
        };
        for (key, expected) in keys {
            let held = request.context.get(&key.to_ascii_lowercase());
            let met =
                condition(operator, held, &strings(Some(expected))).map_err(|why| Denial {
                    action: request.action.clone(),
                    resource: resource.to_string(),
                    reason: format!("statement {}: {why}", sid(statement)),
                })?;
            if !met {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Whether one condition holds: `held` is the request's values of the key, `expected` the
/// policy's. Errs on an operator this evaluation does not know.
fn condition(
    operator: &str,
    held: Option<&Vec<String>>,
    expected: &[&str],
) -> Result<bool, String> {
    let (base, if_exists) = match operator.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (operator, false),
    };
    if base == "Null" {
        let absent = held.is_none_or(Vec::is_empty);
        return Ok(expected.iter().any(|e| (*e == "true") == absent));
    }
    let Some(held) = held.filter(|h| !h.is_empty()) else {
        return Ok(if_exists || base.starts_with("StringNot") || base.starts_with("ArnNot"));
    };
    let any_equal = |f: &dyn Fn(&str, &str) -> bool| {
        held.iter()
            .any(|h| expected.iter().any(|e| f(e, h.as_str())))
    };
    let met = match base {
        "StringEquals" | "ArnEquals" => any_equal(&|e, h| e == h),
        "StringNotEquals" | "ArnNotEquals" => !any_equal(&|e, h| e == h),
        "StringEqualsIgnoreCase" => any_equal(&|e, h| e.eq_ignore_ascii_case(h)),
        "StringNotEqualsIgnoreCase" => !any_equal(&|e, h| e.eq_ignore_ascii_case(h)),
        "StringLike" | "ArnLike" => any_equal(&wildcard),
        "StringNotLike" | "ArnNotLike" => !any_equal(&wildcard),
        "Bool" => any_equal(&|e, h| e.eq_ignore_ascii_case(h)),
        other => return Err(format!("condition operator {other} is not evaluated here")),
    };
    Ok(met)
}

/// IAM's wildcard match: `*` any run of characters, `?` exactly one.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(action: &str, resource: &str) -> Request {
        Request {
            action: action.into(),
            resources: vec![resource.into()],
            context: BTreeMap::new(),
        }
    }

    #[test]
    fn wildcards_match_as_iam_matches() {
        assert!(wildcard(
            "arn:aws:ecr:*:1:repository/cib/*",
            "arn:aws:ecr:eu-west-1:1:repository/cib/a-b"
        ));
        assert!(!wildcard(
            "arn:aws:ecr:*:1:repository/cib/*",
            "arn:aws:ecr:eu-west-1:1:repository/other"
        ));
        assert!(wildcard("project/*-Build*", "project/stack-BuildArm64"));
        assert!(wildcard("a?c", "abc"));
        assert!(!wildcard("a?c", "ac"));
        assert!(wildcard("*", ""));
    }

    #[test]
    fn allow_needs_action_resource_and_condition() {
        let policy = json!({"Statement": [
            {"Sid": "Repos", "Effect": "Allow", "Action": ["ecr:PutImage"],
             "Resource": "arn:aws:ecr:*:1:repository/cib/*"},
            {"Sid": "Slr", "Effect": "Allow", "Action": "iam:CreateServiceLinkedRole",
             "Resource": "*", "Condition": {"StringEquals": {"iam:AWSServiceName": "replication.ecr.amazonaws.com"}}}
        ]});
        let policies = [policy];
        assert!(
            evaluate(
                &policies,
                &request("ECR:putimage", "arn:aws:ecr:us-east-1:1:repository/cib/x")
            )
            .is_ok()
        );
        let denied = evaluate(
            &policies,
            &request("ecr:PutImage", "arn:aws:ecr:us-east-1:1:repository/x"),
        )
        .expect_err("another repository");
        assert!(denied.reason.contains("Repos"), "{}", denied.reason);
        let denied =
            evaluate(&policies, &request("ecr:DeleteRepository", "*")).expect_err("no statement");
        assert!(denied.reason.contains("lacking"), "{}", denied.reason);
        let mut slr = request("iam:CreateServiceLinkedRole", "arn:aws:iam::1:role/x");
        assert!(
            evaluate(&policies, &slr).is_err(),
            "the condition key is missing"
        );
        slr.context.insert(
            "iam:awsservicename".into(),
            vec!["replication.ecr.amazonaws.com".into()],
        );
        assert!(evaluate(&policies, &slr).is_ok());
        slr.context.insert(
            "iam:awsservicename".into(),
            vec!["other.amazonaws.com".into()],
        );
        assert!(evaluate(&policies, &slr).is_err());
    }

    #[test]
    fn an_explicit_deny_wins_and_every_resource_must_be_allowed() {
        let policies = [json!({"Statement": [
            {"Effect": "Allow", "Action": "codebuild:*", "Resource": "*"},
            {"Sid": "NotThat", "Effect": "Deny", "Action": "codebuild:StartBuild", "Resource": "*:project/secret"}
        ]})];
        let denied = evaluate(
            &policies,
            &request(
                "codebuild:StartBuild",
                "arn:aws:codebuild:r:1:project/secret",
            ),
        )
        .expect_err("denied");
        assert!(denied.reason.contains("NotThat"));
        let mut batch = request(
            "codebuild:BatchGetBuilds",
            "arn:aws:codebuild:r:1:project/a",
        );
        batch
            .resources
            .push("arn:aws:codebuild:r:1:project/secret".into());
        assert!(evaluate(&policies, &batch).is_ok());
        let narrow = [
            json!({"Statement": {"Effect": "Allow", "Action": "codebuild:BatchGetBuilds",
                                            "Resource": "arn:aws:codebuild:r:1:project/a"}}),
        ];
        assert!(
            evaluate(&narrow, &batch).is_err(),
            "one resource of the batch is not allowed"
        );
    }

    #[test]
    fn unknown_operators_are_refused_not_guessed() {
        let policies = [
            json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
            "Condition": {"NumericLessThan": {"s3:max-keys": "10"}}}]}),
        ];
        let mut r = request("s3:GetObject", "arn:aws:s3:::b/k");
        r.context.insert("s3:max-keys".into(), vec!["5".into()]);
        let denied = evaluate(&policies, &r).expect_err("unknown operator");
        assert!(denied.reason.contains("NumericLessThan"));
    }

    #[test]
    fn if_exists_and_null_follow_the_documented_rules() {
        assert_eq!(condition("StringEqualsIfExists", None, &["a"]), Ok(true));
        assert_eq!(condition("StringEquals", None, &["a"]), Ok(false));
        assert_eq!(condition("Null", None, &["true"]), Ok(true));
        assert_eq!(
            condition("Null", Some(&vec!["x".into()]), &["true"]),
            Ok(false)
        );
    }
}
