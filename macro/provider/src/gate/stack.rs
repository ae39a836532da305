//! The stack's own template, resolved as CloudFormation resolved it: its parameters as the
//! stack holds them, the pseudo parameters of its ARN, the physical IDs of its resources and
//! the attributes that follow from them (an ECR repository's ARN and URI). Pure: the caller
//! reads the stack.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use cib_trigger::resolve::{Cause, Resolver};
use cib_trigger::stack_context::{
    Deployed, StackPlace, context, pseudo_parameters, repository_attributes,
};

use crate::aws::cloudformation::StackState;
use crate::gate::identity::StackArn;
use crate::gate::response_url::dns_suffix;

/// One resource of the stack's template, its properties resolved.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The properties, placeholders standing for values only CloudFormation knows.
    pub properties: Map<String, Value>,
    /// The cause of each placeholder, by index.
    pub causes: Vec<Cause>,
}

/// The pseudo parameters of the stack `stack_id` (parsed as `arn`).
pub fn pseudo(stack_id: &str, arn: &StackArn) -> BTreeMap<String, String> {
    pseudo_parameters(StackPlace {
        region: &arn.region,
        account: &arn.account,
        stack_name: &arn.name,
        partition: &arn.partition,
        url_suffix: dns_suffix(&arn.region),
        stack_id: Some(stack_id),
    })
}

/// Resource `logical_id` of `template` (the stack's processed template) of type
/// `resource_type`, its properties resolved against `state`; otherwise why not.
pub fn resolve_resource(
    template: &Value,
    logical_id: &str,
    resource_type: &str,
    stack_id: &str,
    arn: &StackArn,
    state: &StackState,
) -> Result<Resolved, String> {
    let resource = template
        .get("Resources")
        .and_then(|r| r.get(logical_id))
        .ok_or_else(|| format!("the stack's template has no resource {logical_id}"))?;
    let declared = resource.get("Type").and_then(Value::as_str).unwrap_or("");
    if declared != resource_type {
        return Err(format!(
            "resource {logical_id} is a {declared} in the stack's template, not a {resource_type}"
        ));
    }
    let deployed = Deployed {
        stack_id: stack_id.to_string(),
        parameters: state.parameters.clone(),
        physical_ids: state.physical_ids.clone(),
    };
    let mut ctx = context(
        template,
        &BTreeMap::new(),
        pseudo(stack_id, arn),
        Some(&deployed),
    );
    repository_attributes(template, &mut ctx);
    let mut resolver = Resolver::new(template, &ctx);
    let properties = match resource.get("Properties") {
        None => Map::new(),
        Some(p) => match resolver.resolve(p) {
            Some(Value::Object(m)) => m,
            _ => {
                return Err(format!(
                    "the properties of {logical_id} in the stack's template are not an object"
                ));
            }
        },
    };
    let causes = (0..).map_while(|i| resolver.cause(i).cloned()).collect();
    Ok(Resolved { properties, causes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_expanded_shape_resolves_from_the_stack() {
        let template = json!({
            "Parameters": {"SourceBucket": {"Type": "String"}},
            "Resources": {
                "ApiRepository": {"Type": "AWS::ECR::Repository"},
                "Project": {"Type": "AWS::CodeBuild::Project"},
                "Api": {"Type": "Custom::ContainerImageBuild", "Properties": {
                    "ServiceToken": {"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:ContainerImageBuild-Provider"},
                    "ProjectName": {"Ref": "Project"},
                    "RepositoryUri": {"Fn::GetAtt": ["ApiRepository", "RepositoryUri"]},
                    "RepositoryArn": {"Fn::GetAtt": ["ApiRepository", "Arn"]},
                    "Source": {"S3Bucket": {"Ref": "SourceBucket"}, "S3Key": "k.zip"}
                }}
            }
        });
        let stack_id = "arn:aws-cn:cloudformation:cn-north-1:123456789012:stack/app/u-1";
        let arn = crate::gate::identity::parse_stack_arn(stack_id).expect("arn");
        let state = StackState {
            parameters: BTreeMap::from([("SourceBucket".into(), "src".into())]),
            physical_ids: BTreeMap::from([
                ("ApiRepository".into(), "cib/api-u".into()),
                (
                    "Project".into(),
                    "app-ContainerImageBuildProjectArm64".into(),
                ),
            ]),
            ..StackState::default()
        };
        let r = resolve_resource(
            &template,
            "Api",
            "Custom::ContainerImageBuild",
            stack_id,
            &arn,
            &state,
        )
        .expect("resolved");
        assert_eq!(
            Value::Object(r.properties),
            json!({
                "ServiceToken": "arn:aws-cn:lambda:cn-north-1:123456789012:function:ContainerImageBuild-Provider",
                "ProjectName": "app-ContainerImageBuildProjectArm64",
                "RepositoryUri": "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/cib/api-u",
                "RepositoryArn": "arn:aws-cn:ecr:cn-north-1:123456789012:repository/cib/api-u",
                "Source": {"S3Bucket": "src", "S3Key": "k.zip"}
            })
        );
        assert!(r.causes.is_empty());
        let wrong = resolve_resource(&template, "Api", "AWS::S3::Bucket", stack_id, &arn, &state);
        assert!(wrong.expect_err("type").contains("not a AWS::S3::Bucket"));
        assert!(
            resolve_resource(
                &template,
                "Nope",
                "Custom::ContainerImageBuild",
                stack_id,
                &arn,
                &state
            )
            .is_err()
        );
    }
}
