//! Systems Manager Parameter Store limits: PutParameter's value size and name rules.

use serde_json::Value;

use super::{Caller, Violation, aws_len, string};

/// SSM's `X-Amz-Target` prefix.
pub const TARGET_PREFIX: &str = "AmazonSSM";

/// Largest value of a standard-tier parameter, in characters (PutParameter API reference,
/// `Value`: "Standard parameters have a value limit of 4 KB"; AWS answers
/// `ValidationException: Standard tier parameters support a maximum parameter value of 4096
/// characters`).
pub const STANDARD_VALUE_MAX: usize = 4096;
/// Largest value of an advanced-tier parameter ("Advanced parameters have a value limit of
/// 8 KB", same page).
pub const ADVANCED_VALUE_MAX: usize = 8192;
/// Longest name, counted with the parameter's ARN up to `parameter/` (PutParameter API
/// reference, `Name`: "The maximum length for a parameter name that you specify is 1011
/// characters. This count of 1011 characters includes the characters in the ARN that
/// precede the name you specify").
pub const NAME_WITH_ARN_MAX: usize = 1011;
/// Deepest hierarchy ("Parameter hierarchies are limited to a maximum depth of fifteen
/// levels", same page).
pub const HIERARCHY_MAX: usize = 15;

/// Checks one SSM operation.
pub fn check(operation: &str, body: &Value, caller: &Caller) -> Result<(), Violation> {
    if operation != "PutParameter" {
        return Ok(());
    }
    let name = string(body, "Name").unwrap_or_default();
    check_name(name, caller)?;
    let value = string(body, "Value").unwrap_or_default();
    let tier = string(body, "Tier").unwrap_or("Standard");
    // Intelligent-Tiering makes a parameter advanced only when it needs to be.
    let max = if tier == "Standard" {
        STANDARD_VALUE_MAX
    } else {
        ADVANCED_VALUE_MAX
    };
    if aws_len(value) > max {
        let message = if max == STANDARD_VALUE_MAX {
            format!(
                "Standard tier parameters support a maximum parameter value of \
                 {STANDARD_VALUE_MAX} characters ({name} is {} characters). To create a larger \
                 parameter value, upgrade the parameter to use the advanced-parameter tier.",
                aws_len(value)
            )
        } else {
            format!(
                "Advanced tier parameters support a maximum parameter value of \
                 {ADVANCED_VALUE_MAX} characters ({name} is {} characters)",
                aws_len(value)
            )
        };
        return Err(Violation::new("ValidationException", message));
    }
    Ok(())
}

fn check_name(name: &str, caller: &Caller) -> Result<(), Violation> {
    let bare = name.strip_prefix('/').unwrap_or(name);
    let lower = bare.to_ascii_lowercase();
    let chars_ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'));
    if name.is_empty()
        || !chars_ok
        || lower.starts_with("aws")
        || lower.starts_with("ssm")
        || (name.starts_with('/') && bare.split('/').any(str::is_empty))
    {
        return Err(Violation::new(
            "ValidationException",
            format!(
                "Parameter name `{name}`: can't be prefixed with \"aws\" or \"ssm\" \
                 (case-insensitive). If formed as a path, it can consist of sub-paths divided \
                 by slash symbol; each sub-path can be formed as a mix of letters, numbers and \
                 the following 3 symbols .-_"
            ),
        ));
    }
    let arn = format!(
        "arn:aws:ssm:{}:{}:parameter/{bare}",
        caller.region, caller.account
    );
    if arn.len() > NAME_WITH_ARN_MAX {
        return Err(Violation::new(
            "ValidationException",
            format!(
                "Parameter name `{name}` is too long: with its ARN it is {} characters, over \
                 {NAME_WITH_ARN_MAX}",
                arn.len()
            ),
        ));
    }
    let depth = bare.split('/').count();
    if name.starts_with('/') && depth > HIERARCHY_MAX {
        return Err(Violation::new(
            "HierarchyLevelLimitExceededException",
            format!(
                "Parameter `{name}` has {depth} hierarchy levels; the maximum is {HIERARCHY_MAX}"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn caller() -> Caller {
        Caller {
            region: "us-east-1".into(),
            account: "123456789012".into(),
        }
    }

    fn put(body: Value) -> Result<(), Violation> {
        check("PutParameter", &body, &caller())
    }

    #[test]
    fn a_standard_value_over_4096_characters_is_refused() {
        let name = "/ContainerImageBuild/responses/abc/def";
        assert_eq!(
            put(json!({"Name": name, "Value": "v".repeat(4096), "Type": "SecureString"})),
            Ok(())
        );
        let v = put(json!({"Name": name, "Value": "v".repeat(4097), "Type": "SecureString"}))
            .expect_err("refused");
        assert_eq!(v.exception, "ValidationException");
        assert!(
            v.message
                .starts_with("Standard tier parameters support a maximum"),
            "{}",
            v.message
        );
        let advanced = json!({"Name": name, "Value": "v".repeat(8192), "Tier": "Advanced"});
        assert_eq!(put(advanced), Ok(()));
        assert!(put(json!({"Name": name, "Value": "v".repeat(8193), "Tier": "Advanced"})).is_err());
    }

    #[test]
    fn names_follow_the_naming_rules() {
        for good in ["plain", "/a/b/c", "/x_y.z-1"] {
            assert_eq!(put(json!({"Name": good, "Value": "v"})), Ok(()), "{good}");
        }
        for bad in [
            "",
            "/aws/x",
            "AWS-thing",
            "/ssm/x",
            "has space",
            "/a//b",
            "/a?b",
        ] {
            let v = put(json!({"Name": bad, "Value": "v"})).expect_err(bad);
            assert_eq!(v.exception, "ValidationException", "{bad}");
        }
        let deep = format!("/{}", vec!["l"; 16].join("/"));
        let v = put(json!({"Name": deep, "Value": "v"})).expect_err("deep");
        assert_eq!(v.exception, "HierarchyLevelLimitExceededException");
        let fifteen = format!("/{}", vec!["l"; 15].join("/"));
        assert_eq!(put(json!({"Name": fifteen, "Value": "v"})), Ok(()));
        let arn_len = "arn:aws:ssm:us-east-1:123456789012:parameter/".len();
        let longest = format!("/{}", "n".repeat(NAME_WITH_ARN_MAX - arn_len));
        assert_eq!(put(json!({"Name": longest, "Value": "v"})), Ok(()));
        let too_long = format!("/{}", "n".repeat(NAME_WITH_ARN_MAX - arn_len + 1));
        assert!(put(json!({"Name": too_long, "Value": "v"})).is_err());
    }
}
