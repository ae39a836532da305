//! CodeBuild limits: StartBuild overrides and project environments.

use serde_json::Value;

use super::{Violation, array, aws_len, string};

/// CodeBuild's `X-Amz-Target` prefix (API version 2016-10-06).
pub const TARGET_PREFIX: &str = "CodeBuild_20161006";

/// Longest environment variable value, in characters, for project variables and StartBuild
/// overrides alike. The API reference (EnvironmentVariable) gives no length; CodeBuild
/// refuses a longer value with `InvalidInputException: EnvironmentVariable should be at most
/// 4096 characters` (the answer AWS gives; issue 10, item 1).
pub const ENV_VALUE_MAX: usize = 4096;

/// Longest inline buildspec, in characters. Not in the API reference; CodeBuild answers
/// `InvalidInputException: Max buildspec length is 25600` (aws/aws-cdk#30326, the limit
/// aws/aws-cdk#14974 calls "an undocumented limitation of CodeBuild").
pub const BUILDSPEC_MAX: usize = 25_600;

/// Build timeout range in minutes: StartBuild `timeoutInMinutesOverride` and
/// CreateProject/UpdateProject `timeoutInMinutes` ("from 5 to 2160 (36 hours)", StartBuild
/// API reference; shape `BuildTimeOut`, min 5 max 2160, in the service model).
pub const BUILD_TIMEOUT_MINUTES: (i64, i64) = (5, 2160);

/// Queue timeout range in minutes: `queuedTimeoutInMinutesOverride` and
/// `queuedTimeoutInMinutes` (shape `TimeOut`, min 5 max 480, in the service model; "between
/// five minutes and eight hours", CodeBuild User Guide, Builds in CodeBuild).
pub const QUEUED_TIMEOUT_MINUTES: (i64, i64) = (5, 480);

/// How many build ids one `BatchGetBuilds` takes ("ids ... Array Members: Minimum number of
/// 1 item. Maximum number of 100 items. Length Constraints: Minimum length of 1.", CodeBuild
/// API reference, BatchGetBuilds).
pub const BATCH_GET_BUILDS_IDS: (usize, usize) = (1, 100);

// `idempotencyToken` has no documented length (shape `String`), so it is not checked.

/// How long CodeBuild holds a StartBuild idempotency token ("valid for 5 minutes", StartBuild
/// API reference, idempotencyToken).
pub const IDEMPOTENCY_WINDOW: std::time::Duration = std::time::Duration::from_secs(300);

/// The parameters a StartBuild idempotency token binds: the whole request but the token.
pub fn start_parameters(body: &Value) -> Option<(String, String)> {
    let token = string(body, "idempotencyToken")?.to_string();
    let mut rest = body.clone();
    rest.as_object_mut()?.remove("idempotencyToken");
    Some((token, rest.to_string()))
}

/// The answer to a StartBuild that repeats `token` with other parameters within
/// [`IDEMPOTENCY_WINDOW`]: "If you repeat the StartBuild request with the same token, but
/// change a parameter, CodeBuild returns a parameter mismatch error" (StartBuild API
/// reference). The exception's name is not documented; `InvalidInputException` is the
/// operation's documented error for a bad request.
pub fn token_mismatch(token: &str) -> Violation {
    Violation::new(
        "InvalidInputException",
        format!(
            "idempotencyToken {token} was used within 5 minutes with other parameters \
             (parameter mismatch)"
        ),
    )
}

/// Checks one CodeBuild operation.
pub fn check(operation: &str, body: &Value) -> Result<(), Violation> {
    match operation {
        "StartBuild" => {
            env_values(body, "environmentVariablesOverride")?;
            if let Some(spec) = string(body, "buildspecOverride") {
                buildspec(spec)?;
            }
            range(body, "timeoutInMinutesOverride", BUILD_TIMEOUT_MINUTES)?;
            range(
                body,
                "queuedTimeoutInMinutesOverride",
                QUEUED_TIMEOUT_MINUTES,
            )
        }
        "CreateProject" | "UpdateProject" => {
            if let Some(environment) = body.get("environment") {
                env_values(environment, "environmentVariables")?;
            }
            if let Some(spec) = body.get("source").and_then(|s| string(s, "buildspec")) {
                buildspec(spec)?;
            }
            range(body, "timeoutInMinutes", BUILD_TIMEOUT_MINUTES)?;
            range(body, "queuedTimeoutInMinutes", QUEUED_TIMEOUT_MINUTES)
        }
        "BatchGetBuilds" => {
            let ids = array(body, "ids");
            let (min, max) = BATCH_GET_BUILDS_IDS;
            if ids.len() < min || ids.len() > max {
                return Err(Violation::new(
                    "InvalidInputException",
                    format!(
                        "1 validation error detected: Value at 'ids' failed to satisfy constraint: \
                         Member must have length between {min} and {max} (has {})",
                        ids.len()
                    ),
                ));
            }
            if ids.iter().any(|id| id.as_str().is_none_or(str::is_empty)) {
                return Err(Violation::new(
                    "InvalidInputException",
                    "1 validation error detected: a build id in 'ids' is empty",
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn env_values(parent: &Value, key: &str) -> Result<(), Violation> {
    for variable in array(parent, key) {
        let value = string(variable, "value").unwrap_or_default();
        if aws_len(value) > ENV_VALUE_MAX {
            return Err(Violation::new(
                "InvalidInputException",
                format!(
                    "EnvironmentVariable should be at most {ENV_VALUE_MAX} characters \
                     ({key}: {} is {} characters)",
                    string(variable, "name").unwrap_or("?"),
                    aws_len(value)
                ),
            ));
        }
    }
    Ok(())
}

fn buildspec(spec: &str) -> Result<(), Violation> {
    if aws_len(spec) > BUILDSPEC_MAX {
        return Err(Violation::new(
            "InvalidInputException",
            format!(
                "Max buildspec length is {BUILDSPEC_MAX} (got {})",
                aws_len(spec)
            ),
        ));
    }
    Ok(())
}

fn range(body: &Value, key: &str, (min, max): (i64, i64)) -> Result<(), Violation> {
    let Some(value) = body.get(key) else {
        return Ok(());
    };
    match value.as_i64() {
        Some(n) if n < min => Err(Violation::new(
            "ValidationException",
            format!(
                "1 validation error detected: Value '{n}' at '{key}' failed to satisfy \
                 constraint: Member must have value greater than or equal to {min}"
            ),
        )),
        Some(n) if n > max => Err(Violation::new(
            "ValidationException",
            format!(
                "1 validation error detected: Value '{n}' at '{key}' failed to satisfy \
                 constraint: Member must have value less than or equal to {max}"
            ),
        )),
        Some(_) => Ok(()),
        None => Err(Violation::new(
            "SerializationException",
            format!("{key} must be an integer, got {value}"),
        )),
    }
}

/// Holds every `AWS::CodeBuild::Project` of an expanded template to the limits above:
/// literal environment values, an inline `Source.BuildSpec`, `TimeoutInMinutes` and
/// `QueuedTimeoutInMinutes`. Projects that moto's CloudFormation creates never pass through
/// the proxy, so a template test calls this instead. The error names each project and
/// variable. Values that are intrinsic functions are not resolved and not counted.
pub fn check_template_projects(template: &Value) -> Result<(), String> {
    let mut problems = Vec::new();
    let resources = template.get("Resources").and_then(Value::as_object);
    for (id, resource) in resources.into_iter().flatten() {
        if resource.get("Type").and_then(Value::as_str) != Some("AWS::CodeBuild::Project") {
            continue;
        }
        let properties = resource.get("Properties").unwrap_or(&Value::Null);
        let environment = properties.get("Environment").unwrap_or(&Value::Null);
        for variable in array(environment, "EnvironmentVariables") {
            if let Some(value) = string(variable, "Value")
                && aws_len(value) > ENV_VALUE_MAX
            {
                problems.push(format!(
                    "{id}: Environment.EnvironmentVariables {} is {} characters, over \
                     CodeBuild's {ENV_VALUE_MAX}",
                    string(variable, "Name").unwrap_or("?"),
                    aws_len(value)
                ));
            }
        }
        if let Some(spec) = properties
            .get("Source")
            .and_then(|s| string(s, "BuildSpec"))
            && aws_len(spec) > BUILDSPEC_MAX
        {
            problems.push(format!(
                "{id}: Source.BuildSpec is {} characters, over CodeBuild's {BUILDSPEC_MAX}",
                aws_len(spec)
            ));
        }
        for (key, (min, max)) in [
            ("TimeoutInMinutes", BUILD_TIMEOUT_MINUTES),
            ("QueuedTimeoutInMinutes", QUEUED_TIMEOUT_MINUTES),
        ] {
            if let Some(n) = properties.get(key).and_then(Value::as_i64)
                && !(min..=max).contains(&n)
            {
                problems.push(format!("{id}: {key} is {n}, outside {min}-{max}"));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn start(body: Value) -> Result<(), Violation> {
        check("StartBuild", &body)
    }

    #[test]
    fn an_override_value_over_4096_characters_is_refused_and_4096_passes() {
        let at = "x".repeat(ENV_VALUE_MAX);
        let over = "x".repeat(ENV_VALUE_MAX + 1);
        let ok = json!({"projectName": "p", "environmentVariablesOverride": [
            {"name": "A", "value": at, "type": "PLAINTEXT"}]});
        assert_eq!(start(ok), Ok(()));
        let bad = json!({"projectName": "p", "environmentVariablesOverride": [
            {"name": "B", "value": over, "type": "PLAINTEXT"}]});
        let v = start(bad).expect_err("refused");
        assert_eq!(v.exception, "InvalidInputException");
        assert!(
            v.message.contains("at most 4096 characters"),
            "{}",
            v.message
        );
        assert!(v.message.contains("B is 4097"), "{}", v.message);
    }

    #[test]
    fn project_environment_values_are_checked_on_create_and_update() {
        for op in ["CreateProject", "UpdateProject"] {
            let body = json!({"name": "p", "environment": {"environmentVariables": [
                {"name": "CIB_BUILD_SCRIPT", "value": "y".repeat(5400)}]}});
            let v = check(op, &body).expect_err("refused");
            assert_eq!(v.exception, "InvalidInputException");
            let body = json!({"name": "p", "environment": {"environmentVariables": [
                {"name": "CIB_BUILD_SCRIPT", "value": "y".repeat(4096)}]}});
            assert_eq!(check(op, &body), Ok(()));
        }
    }

    #[test]
    fn a_buildspec_over_25600_characters_is_refused() {
        let ok = json!({"buildspecOverride": "b".repeat(BUILDSPEC_MAX)});
        assert_eq!(start(ok), Ok(()));
        let v = start(json!({"buildspecOverride": "b".repeat(BUILDSPEC_MAX + 1)}))
            .expect_err("refused");
        assert_eq!(v.exception, "InvalidInputException");
        assert!(v.message.starts_with("Max buildspec length is 25600"));
        let project = json!({"source": {"type": "S3", "buildspec": "b".repeat(BUILDSPEC_MAX + 1)}});
        assert!(check("CreateProject", &project).is_err());
    }

    #[test]
    fn timeouts_outside_their_ranges_are_refused() {
        for (key, (min, max)) in [
            ("timeoutInMinutesOverride", BUILD_TIMEOUT_MINUTES),
            ("queuedTimeoutInMinutesOverride", QUEUED_TIMEOUT_MINUTES),
        ] {
            assert_eq!(start(json!({key: min})), Ok(()));
            assert_eq!(start(json!({key: max})), Ok(()));
            for bad in [min - 1, max + 1] {
                let v = start(json!({key: bad})).expect_err("refused");
                assert_eq!(v.exception, "ValidationException");
                assert!(v.message.contains(key), "{}", v.message);
            }
        }
        assert!(check("CreateProject", &json!({"timeoutInMinutes": 2161})).is_err());
        assert!(check("UpdateProject", &json!({"queuedTimeoutInMinutes": 4})).is_err());
    }

    #[test]
    fn template_projects_are_held_to_the_same_limits() {
        let project = |value: String, timeout: i64| {
            json!({"Resources": {"ContainerImageBuildProjectArm64": {
                "Type": "AWS::CodeBuild::Project",
                "Properties": {
                    "Environment": {"EnvironmentVariables": [
                        {"Name": "CIB_RESPOND_SCRIPT", "Value": value},
                        {"Name": "CIB_STACK", "Value": {"Ref": "AWS::StackName"}}]},
                    "Source": {"Type": "S3", "BuildSpec": "version: 0.2"},
                    "TimeoutInMinutes": timeout}}}})
        };
        assert_eq!(
            check_template_projects(&project("r".repeat(4096), 2160)),
            Ok(())
        );
        let error = check_template_projects(&project("r".repeat(5431), 2161)).expect_err("over");
        assert!(
            error.contains(
                "ContainerImageBuildProjectArm64: Environment.EnvironmentVariables \
                            CIB_RESPOND_SCRIPT is 5431 characters"
            ),
            "{error}"
        );
        assert!(error.contains("TimeoutInMinutes is 2161"), "{error}");
    }

    #[test]
    fn other_operations_pass() {
        let body =
            json!({"environmentVariablesOverride": [{"name": "A", "value": "x".repeat(9000)}]});
        assert_eq!(check("ListProjects", &body), Ok(()));
    }

    #[test]
    fn a_token_binds_every_other_parameter() {
        let a = json!({"projectName": "p", "idempotencyToken": "t", "queuedTimeoutInMinutesOverride": 49});
        let b = json!({"projectName": "p", "idempotencyToken": "t", "queuedTimeoutInMinutesOverride": 48});
        let (ta, pa) = start_parameters(&a).expect("token");
        let (tb, pb) = start_parameters(&b).expect("token");
        assert_eq!(ta, tb);
        assert_ne!(pa, pb, "another queue timeout is another request");
        assert!(!pa.contains("idempotencyToken"));
        assert_eq!(start_parameters(&json!({"projectName": "p"})), None);
        assert_eq!(token_mismatch("t").exception, "InvalidInputException");
    }

    #[test]
    fn batch_get_builds_takes_1_to_100_ids() {
        let ids = |n: usize| json!({"ids": (0..n).map(|i| format!("p:{i}")).collect::<Vec<_>>()});
        assert_eq!(check("BatchGetBuilds", &ids(1)), Ok(()));
        assert_eq!(check("BatchGetBuilds", &ids(100)), Ok(()));
        for bad in [ids(0), ids(101), json!({"ids": [""]})] {
            let v = check("BatchGetBuilds", &bad).expect_err("refused");
            assert_eq!(v.exception, "InvalidInputException");
        }
    }
}
