//! CIB053: the build role's inline policy must fit IAM's quota in the worst case.
//!
//! IAM allows 10,240 characters of inline policy per role, all inline policies together,
//! whitespace not counted ("Role policy size cannot exceed 10,240 characters ... IAM does
//! not count white space when calculating the size of a policy against these limits",
//! https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html). A
//! policy over it fails the role, and the whole stack with it, at deploy time. The
//! policy is measured with every intrinsic replaced by its longest possible value (a
//! 128-character stack name, the longest partition and region, ...), so a stack that
//! passes here fits whatever its name, region and parameter values.

use serde_json::Value;

use super::worst_case::{Bound, WorstCase, non_whitespace_chars};
use super::{Context, ids};
use crate::expand::ids::ROLE;
use crate::finding::Finding;

/// IAM's quota for the inline policies of one role, in non-whitespace characters.
pub const MAX_ROLE_POLICY_CHARS: usize = 10_240;

/// The worst-case size of the build role's inline policies and the largest statements
/// (Sid and size), or `None` when the template has no build role.
pub fn measure(expanded: &Value) -> Option<(usize, Vec<(String, usize)>)> {
    let policies = expanded
        .get("Resources")?
        .get(ROLE)?
        .get("Properties")?
        .get("Policies")?
        .as_array()?;
    let worst = WorstCase::new(expanded);
    let mut total = 0;
    let mut statements = Vec::new();
    for policy in policies {
        let Some(document) = policy.get("PolicyDocument") else {
            continue;
        };
        let mut evaluated = worst
            .evaluate(document, Bound::UNKNOWN)
            .unwrap_or(Value::Null);
        if let Some(Value::Array(items)) = document.get("Statement") {
            let list: Vec<Value> = items
                .iter()
                .filter_map(|statement| worst.evaluate(statement, statement_bound(statement)))
                .collect();
            for statement in &list {
                let sid = statement
                    .get("Sid")
                    .and_then(Value::as_str)
                    .unwrap_or("(no Sid)")
                    .to_owned();
                statements.push((sid, non_whitespace_chars(statement)));
            }
            evaluated["Statement"] = Value::Array(list);
        }
        total += non_whitespace_chars(&evaluated);
    }
    statements.sort_by_key(|(_, chars)| std::cmp::Reverse(*chars));
    Some((total, statements))
}

/// The bound of a bare intrinsic in a statement: secrets are named by their ARN.
fn statement_bound(statement: &Value) -> Bound {
    match statement.get("Action").and_then(Value::as_str) {
        Some("secretsmanager:GetSecretValue") => Bound::SECRET_ARN,
        _ => Bound::UNKNOWN,
    }
}

/// Reports a build role whose inline policy can pass IAM's quota.
pub fn check(context: &Context<'_>) -> Vec<Finding> {
    let Some((size, statements)) = measure(context.expanded) else {
        return Vec::new();
    };
    if size <= MAX_ROLE_POLICY_CHARS {
        return Vec::new();
    }
    let largest = statements
        .iter()
        .take(3)
        .map(|(sid, chars)| format!("{sid} {chars}"))
        .collect::<Vec<_>>()
        .join(", ");
    vec![Finding::error(
        ids::ROLE_POLICY_TOO_LARGE,
        None,
        format!("Resources.{ROLE}.Properties.Policies"),
        format!(
            "the build role's inline policy can reach {size} characters (whitespace not counted) with the longest stack name, region and parameter values; IAM allows {MAX_ROLE_POLICY_CHARS} per role (largest statements: {largest})"
        ),
        "list fewer distinct secrets, subnets, named repositories (RepositoryName, ExistingRepositoryName) and source buckets, give parameters used in them a MaxLength or AllowedValues, or split the images across stacks",
    )]
}
