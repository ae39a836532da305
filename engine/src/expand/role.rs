//! The CodeBuild service role, scoped to what this template's builds touch.

use serde_json::{Map, Value, json};

use super::attributes::if_image_exists;
use super::project::default_log_group;
use super::repository;
use crate::spec::{ImageSpec, Source};

/// Actions a build needs on its own repository (push, cache, digest lookup).
const PUSH_ACTIONS: &[&str] = &[
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:DescribeImages",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
];

/// Actions a build needs to pull through an ECR pull-through cache.
const PULL_THROUGH_ACTIONS: &[&str] = &[
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:BatchImportUpstreamImage",
    "ecr:CreateRepository",
    "ecr:GetDownloadUrlForLayer",
];

/// EC2 actions CodeBuild needs in a VPC; IAM offers no resource scoping for them.
const VPC_DESCRIBE_ACTIONS: &[&str] = &[
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
];

/// The role resource for `images`.
pub fn resource(images: &[ImageSpec]) -> Map<String, Value> {
    let mut statements = vec![logs_statement(images)];
    statements.push(json!({
        "Sid": "RegistryLogin",
        "Effect": "Allow",
        // GetAuthorizationToken has no resource to scope to.
        "Action": "ecr:GetAuthorizationToken",
        "Resource": "*"
    }));
    let repositories: Vec<Value> = images
        .iter()
        .map(|image| if_image_exists(image, repository::refs(image).arn))
        .collect();
    statements.push(json!({
        "Sid": "ReadOwnBuilds",
        "Effect": "Allow",
        // The responder names the failing phase of its own build.
        "Action": "codebuild:BatchGetBuilds",
        "Resource": {"Fn::Sub": format!(
            "arn:${{AWS::Partition}}:codebuild:${{AWS::Region}}:${{AWS::AccountId}}:project/${{AWS::StackName}}-{}*",
            super::ids::PROJECT_PREFIX
        )}
    }));
    statements.push(json!({
        "Sid": "PushImages",
        "Effect": "Allow",
        "Action": PUSH_ACTIONS,
        "Resource": repositories
    }));
    let replicas: Vec<Value> = images
        .iter()
        .flat_map(|image| {
            image
                .replica_regions
                .iter()
                .map(move |region| if_image_exists(image, repository::replica_arn(image, region)))
        })
        .collect();
    if !replicas.is_empty() {
        statements.push(json!({
            "Sid": "WaitForReplicas",
            "Effect": "Allow",
            "Action": "ecr:DescribeImages",
            "Resource": replicas
        }));
    }
    let sources: Vec<Value> = images
        .iter()
        .filter_map(|image| match &image.source {
            Source::S3 { bucket, key, .. } => Some(if_image_exists(
                image,
                json!({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", bucket, "/", key]]}),
            )),
            _ => None,
        })
        .collect();
    if !sources.is_empty() {
        statements.push(json!({
            "Sid": "ReadBuildContexts",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": sources
        }));
    }
    let caches: Vec<Value> = images
        .iter()
        .flat_map(|image| {
            image.pull_through_cache_prefixes.iter().map(move |prefix| {
                if_image_exists(
                    image,
                    json!({"Fn::Sub": [
                        "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/${Prefix}/*",
                        {"Prefix": prefix}
                    ]}),
                )
            })
        })
        .collect();
    if !caches.is_empty() {
        statements.push(json!({
            "Sid": "PullThroughCaches",
            "Effect": "Allow",
            "Action": PULL_THROUGH_ACTIONS,
            "Resource": caches
        }));
    }
    let secrets: Vec<Value> = images
        .iter()
        .flat_map(|image| {
            image
                .docker_login_secret_arn
                .iter()
                .chain(image.build_secrets.iter().map(|(_, arn)| arn))
                .map(move |arn| if_image_exists(image, arn.clone()))
        })
        .collect();
    if !secrets.is_empty() {
        statements.push(json!({
            "Sid": "ReadBuildSecrets",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": secrets
        }));
    }
    statements.extend(vpc_statements(images));
    let mut properties = Map::new();
    properties.insert(
        "Description".into(),
        json!("Service role of this stack's container image builds (ContainerImageBuild)"),
    );
    properties.insert(
        "AssumeRolePolicyDocument".into(),
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "codebuild.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
            }]
        }),
    );
    properties.insert(
        "Policies".into(),
        json!([{
            "PolicyName": "container-image-build",
            "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}
        }]),
    );
    let mut resource = Map::new();
    resource.insert("Type".into(), json!("AWS::IAM::Role"));
    resource.insert("Properties".into(), Value::Object(properties));
    resource
}

/// Log groups the builds write to: the template's group and each image's own (a `Ref`
/// to a generated group, or the name the image gives).
pub fn log_group_names(images: &[ImageSpec]) -> Vec<Value> {
    let mut groups = vec![default_log_group()];
    for image in images {
        if let Some(name) = super::log_group::group_name(image) {
            let group = if_image_exists(image, name);
            if !groups.contains(&group) {
                groups.push(group);
            }
        }
    }
    groups
}

fn logs_statement(images: &[ImageSpec]) -> Value {
    let resources: Vec<Value> = log_group_names(images)
        .into_iter()
        .flat_map(|group| [log_group_arn(&group, ""), log_group_arn(&group, ":*")])
        .collect();
    json!({
        "Sid": "WriteBuildLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": resources
    })
}

/// The ARN of a log group (a name, or `Fn::If` around one), with `suffix` appended.
fn log_group_arn(group: &Value, suffix: &str) -> Value {
    if let Some([condition, name, _]) = group
        .get("Fn::If")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        return json!({"Fn::If": [condition, log_group_arn(name, suffix), {"Ref": "AWS::NoValue"}]});
    }
    json!({"Fn::Sub": [
        format!("arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:${{Group}}{suffix}"),
        {"Group": group}
    ]})
}

fn vpc_statements(images: &[ImageSpec]) -> Vec<Value> {
    let subnets: Vec<Value> = images
        .iter()
        .filter_map(|image| image.environment.vpc_config.as_ref())
        .filter_map(|vpc| vpc.get("Subnets"))
        .cloned()
        .collect();
    if subnets.is_empty() {
        return Vec::new();
    }
    // A subnet list given as one intrinsic (a `List<AWS::EC2::Subnet::Id>` parameter,
    // say) cannot be turned into ARNs; the permission is then scoped by service only.
    let all_literal = subnets.iter().all(Value::is_array);
    let subnet_arns: Vec<Value> = subnets
        .iter()
        .filter_map(Value::as_array)
        .flatten()
        .map(|subnet| {
            json!({"Fn::Sub": [
                "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:subnet/${Subnet}",
                {"Subnet": subnet}
            ]})
        })
        .collect();
    let mut condition =
        json!({"StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"}});
    if all_literal {
        condition["ArnEquals"] = json!({"ec2:Subnet": subnet_arns});
    }
    vec![
        json!({
            "Sid": "BuildInVpc",
            "Effect": "Allow",
            // These EC2 actions support no resource-level scoping.
            "Action": VPC_DESCRIBE_ACTIONS,
            "Resource": "*"
        }),
        json!({
            "Sid": "AttachToBuildSubnets",
            "Effect": "Allow",
            "Action": "ec2:CreateNetworkInterfacePermission",
            "Resource": {"Fn::Sub": "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:network-interface/*"},
            "Condition": condition
        }),
    ]
}
