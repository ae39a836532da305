//! The CodeBuild service role, scoped to what this template's builds touch.
//!
//! IAM allows 10,240 characters (whitespace not counted) of inline policy per role
//! ("Role policy size cannot exceed 10,240 characters",
//! https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html), so the
//! policy must not grow with the number of images: generated repositories are named by
//! one pattern (`cib/*-<stack uuid>`, in every region), source objects by bucket and the
//! longest common key prefix, and only what the user names (a `RepositoryName`, an
//! `ExistingRepositoryName`, a secret, a subnet) is listed, each once. CIB053 checks the
//! worst case at synth time.

use serde_json::{Map, Value, json};

use cib_contract::{BUILDER_REPOSITORY, RESPONSE_PARAMETER_PREFIX};

use super::attributes::if_image_exists;
use super::cache;
use super::names;
use super::project::default_log_group;
use super::repository;
use crate::spec::{ImageSpec, Source};

/// Actions a build needs on its own repository (push, digest lookup).
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

/// Actions a build needs on the registry cache (read and write the cache manifests).
const CACHE_ACTIONS: &[&str] = &[
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
];

/// Actions a build needs to pull an image (the builder image).
const PULL_ACTIONS: &[&str] = &[
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
];

/// Actions a build needs to pull through an ECR pull-through cache.
const PULL_THROUGH_ACTIONS: &[&str] = &[
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:BatchImportUpstreamImage",
    "ecr:CreateRepository",
    "ecr:GetDownloadUrlForLayer",
];

/// EC2 actions CodeBuild needs in a VPC that have no resource type (Service Authorization
/// Reference, Amazon EC2), so no ARN can scope them.
const VPC_DESCRIBE_ACTIONS: &[&str] = &[
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
];

/// The role resource for `images`; `cache_only_if` names the condition the cache
/// repository exists under when the role may exist without it.
pub fn resource(images: &[ImageSpec], cache_only_if: Option<&str>) -> Map<String, Value> {
    let mut statements = vec![logs_statement(images)];
    statements.push(json!({
        "Sid": "RegistryLogin",
        "Effect": "Allow",
        // GetAuthorizationToken has no resource to scope to.
        "Action": "ecr:GetAuthorizationToken",
        "Resource": "*"
    }));
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
        "Resource": home_repositories(images)
    }));
    let gated: Vec<ImageSpec> = images
        .iter()
        .filter(|i| i.scan.is_some())
        .cloned()
        .collect();
    if !gated.is_empty() {
        statements.push(json!({
            "Sid": "GateOnScanFindings",
            "Effect": "Allow",
            // The vulnerability gate reads the scan of the image it pushed and, when the
            // image fails, removes its tag, in the replica regions too.
            "Action": ["ecr:BatchDeleteImage", "ecr:DescribeImageScanFindings"],
            "Resource": distinct(
                home_repositories(&gated)
                    .into_iter()
                    .chain(replica_repositories(&gated))
            )
        }));
        statements.push(json!({
            "Sid": "ReadEnhancedScanFindings",
            "Effect": "Allow",
            // Under enhanced scanning (Amazon Inspector, often on for a whole organization),
            // DescribeImageScanFindings also needs these ("IAM permissions required for
            // enhanced scanning", ECR User Guide). Neither action has a resource type
            // (Service Authorization Reference, Amazon Inspector2), so no ARN can scope them.
            "Action": ["inspector2:ListCoverage", "inspector2:ListFindings"],
            "Resource": "*"
        }));
    }
    let replicas = replica_repositories(images);
    if !replicas.is_empty() {
        statements.push(json!({
            "Sid": "WaitForReplicas",
            "Effect": "Allow",
            "Action": "ecr:DescribeImages",
            "Resource": replicas
        }));
    }
    if cache::needed(images) {
        let statement = json!({
            "Sid": "BuildCache",
            "Effect": "Allow",
            "Action": CACHE_ACTIONS,
            "Resource": cache::arn()
        });
        statements.push(match cache_only_if {
            Some(condition) => {
                json!({"Fn::If": [condition, statement, {"Ref": "AWS::NoValue"}]})
            }
            None => statement,
        });
    }
    statements.push(json!({
        "Sid": "PullBuilder",
        "Effect": "Allow",
        "Action": PULL_ACTIONS,
        "Resource": {"Fn::Sub": format!(
            "arn:${{AWS::Partition}}:ecr:${{AWS::Region}}:${{AWS::AccountId}}:repository/{}/*",
            builder_namespace()
        )}
    }));
    statements.push(json!({
        "Sid": "ReadResponseUrl",
        "Effect": "Allow",
        // The provider parks each build's response URL in a SecureString parameter under
        // the stack's uuid; the build reads it and deletes it once it has answered.
        "Action": ["ssm:GetParameters", "ssm:DeleteParameter"],
        "Resource": names::sub_with_stack_uuid(&format!(
            "arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/{}${{StackUuid}}/*",
            RESPONSE_PARAMETER_PREFIX.trim_start_matches('/')
        ))
    }));
    let sources = source_objects(images);
    if !sources.is_empty() {
        statements.push(json!({
            "Sid": "ReadBuildContexts",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": sources
        }));
        statements.push(json!({
            "Sid": "LocateBuildContextBuckets",
            "Effect": "Allow",
            "Action": ["s3:GetBucketAcl", "s3:GetBucketLocation"],
            "Resource": source_buckets(images)
        }));
    }
    let caches = distinct(images.iter().flat_map(|image| {
        image.pull_through_cache_prefixes.iter().map(move |prefix| {
            if_image_exists(
                image,
                json!({"Fn::Sub": [
                    "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/${Prefix}/*",
                    {"Prefix": prefix}
                ]}),
            )
        })
    }));
    if !caches.is_empty() {
        statements.push(json!({
            "Sid": "PullThroughCaches",
            "Effect": "Allow",
            "Action": PULL_THROUGH_ACTIONS,
            "Resource": caches
        }));
    }
    let bases = distinct(images.iter().flat_map(|image| {
        image
            .pull_from_repositories
            .iter()
            .map(move |arn| if_image_exists(image, json!(arn)))
    }));
    if !bases.is_empty() {
        statements.push(json!({
            "Sid": "PullBaseImages",
            "Effect": "Allow",
            // The repositories the template names in PullFromRepositories, in any region
            // or account (their repository policies must allow this role too).
            "Action": PULL_ACTIONS,
            "Resource": bases
        }));
    }
    let secrets = distinct(images.iter().flat_map(|image| {
        image
            .docker_login_secret_arn
            .iter()
            .chain(image.build_secrets.iter().map(|(_, arn)| arn))
            .map(move |arn| if_image_exists(image, arn.clone()))
    }));
    if !secrets.is_empty() {
        statements.push(json!({
            "Sid": "ReadBuildSecrets",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": secrets
        }));
    }
    if let Some(statement) = kms_statement(!sources.is_empty(), !secrets.is_empty()) {
        statements.push(statement);
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

/// The namespace of the builder image's repository (`cib-tools` of `cib-tools/buildkit`):
/// the support stack's `BuilderImage` parameter may name another image there.
fn builder_namespace() -> &'static str {
    BUILDER_REPOSITORY
        .split_once('/')
        .map_or(BUILDER_REPOSITORY, |(namespace, _)| namespace)
}

/// `values` without repeats, in first-seen order.
fn distinct(values: impl IntoIterator<Item = Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for value in values {
        if !out.contains(&value) {
            out.push(value);
        }
    }
    out
}

/// ARN of every generated repository of this stack in `region` (`${AWS::Region}` or `*`).
fn generated_repositories_arn(region: &str) -> Value {
    names::sub_with_stack_uuid(&format!(
        "arn:${{AWS::Partition}}:ecr:{region}:${{AWS::AccountId}}:repository/{}",
        names::generated_repository_pattern()
    ))
}

/// The repositories the builds push to in the stack's region: every generated one by
/// pattern, each named one (user `RepositoryName` or `ExistingRepositoryName`) by ARN.
fn home_repositories(images: &[ImageSpec]) -> Vec<Value> {
    let generated = images
        .iter()
        .any(names::has_generated_name)
        .then(|| generated_repositories_arn("${AWS::Region}"));
    distinct(
        generated.into_iter().chain(
            images
                .iter()
                .filter(|image| !names::has_generated_name(image))
                .map(|image| if_image_exists(image, repository::refs(image).arn)),
        ),
    )
}

/// The repositories whose replicas the responder waits for, in every region.
fn replica_repositories(images: &[ImageSpec]) -> Vec<Value> {
    let with_replicas = || images.iter().filter(|i| !i.replica_regions.is_empty());
    let generated = with_replicas()
        .any(names::has_generated_name)
        .then(|| generated_repositories_arn("*"));
    distinct(
        generated.into_iter().chain(
            with_replicas()
                .filter(|image| !names::has_generated_name(image))
                .map(|image| if_image_exists(image, repository::any_region_arn(image))),
        ),
    )
}

/// The literal text a key is known to start with, and whether that is the whole key:
/// the key itself when it is a string, the text before the first substitution of a
/// `Fn::Sub`, the leading strings of a `Fn::Join`, else nothing.
fn known_key_prefix(key: &Value) -> (String, bool) {
    if let Value::String(text) = key {
        return (text.clone(), true);
    }
    let Some(map) = key.as_object().filter(|m| m.len() == 1) else {
        return (String::new(), false);
    };
    if let Some(sub) = map.get("Fn::Sub") {
        let text = match sub {
            Value::String(text) => Some(text.as_str()),
            Value::Array(items) => items.first().and_then(Value::as_str),
            _ => None,
        };
        let prefix = text.map_or("", |t| t.split("${").next().unwrap_or_default());
        return (prefix.to_owned(), false);
    }
    if let Some(Value::Array(join)) = map.get("Fn::Join")
        && let [Value::String(delimiter), Value::Array(parts)] = join.as_slice()
    {
        let mut prefix = String::new();
        for (index, part) in parts.iter().enumerate() {
            let Value::String(text) = part else { break };
            if index > 0 {
                prefix.push_str(delimiter);
            }
            prefix.push_str(text);
        }
        return (prefix, false);
    }
    (String::new(), false)
}

fn common_prefix(a: &str, b: &str) -> String {
    a.chars()
        .zip(b.chars())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect()
}

/// Text to put into a `Fn::Sub` template literally (`${` is written `${!`).
fn sub_literal(text: &str) -> String {
    text.replace("${", "${!")
}

/// The build contexts, one ARN per bucket: the bucket's single literal key, or the
/// longest prefix every key of that bucket is known to start with, followed by `*`.
fn source_objects(images: &[ImageSpec]) -> Vec<Value> {
    struct Group<'a> {
        bucket: &'a Value,
        prefix: String,
        exact: bool,
        images: Vec<&'a ImageSpec>,
    }
    let mut groups: Vec<Group<'_>> = Vec::new();
    for image in images {
        let Source::S3 { bucket, key, .. } = &image.source else {
            continue;
        };
        let (prefix, exact) = known_key_prefix(key);
        match groups.iter_mut().find(|g| g.bucket == bucket) {
            Some(group) => {
                if !(group.exact && exact && group.prefix == prefix) {
                    group.prefix = common_prefix(&group.prefix, &prefix);
                    group.exact = false;
                }
                group.images.push(image);
            }
            None => groups.push(Group {
                bucket,
                prefix,
                exact,
                images: vec![image],
            }),
        }
    }
    groups
        .into_iter()
        .map(|group| {
            let wildcard = if group.exact { "" } else { "*" };
            let arn = json!({"Fn::Sub": [
                format!("arn:${{AWS::Partition}}:s3:::${{Bucket}}/{}{wildcard}", sub_literal(&group.prefix)),
                {"Bucket": group.bucket}
            ]});
            if_all_exist(&group.images, arn)
        })
        .collect()
}

/// `resource` under the images' condition when every one of them has the same condition
/// (a resource of images with different conditions is always there).
fn if_all_exist(images: &[&ImageSpec], resource: Value) -> Value {
    match images {
        [first, rest @ ..]
            if rest
                .iter()
                .all(|i| i.condition_name() == first.condition_name()) =>
        {
            if_image_exists(first, resource)
        }
        _ => resource,
    }
}

/// The source buckets themselves, for `s3:GetBucketAcl` and `s3:GetBucketLocation`, which
/// CodeBuild's documented service-role policy grants for S3 sources beside the objects
/// (https://docs.aws.amazon.com/codebuild/latest/userguide/setting-up-service-role.html).
fn source_buckets(images: &[ImageSpec]) -> Vec<Value> {
    let mut buckets: Vec<(&Value, Vec<&ImageSpec>)> = Vec::new();
    for image in images {
        let Source::S3 { bucket, .. } = &image.source else {
            continue;
        };
        match buckets.iter_mut().find(|(b, _)| *b == bucket) {
            Some((_, of_bucket)) => of_bucket.push(image),
            None => buckets.push((bucket, vec![image])),
        }
    }
    buckets
        .into_iter()
        .map(|(bucket, of_bucket)| {
            let arn =
                json!({"Fn::Sub": ["arn:${AWS::Partition}:s3:::${Bucket}", {"Bucket": bucket}]});
            if_all_exist(&of_bucket, arn)
        })
        .collect()
}

/// `kms:Decrypt` for a source bucket or a secret encrypted with a customer managed key.
/// The engine cannot know the key, so the statement names every key of the region but
/// only for requests that S3 or Secrets Manager make on the build's behalf
/// (`kms:ViaService`, https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service):
/// through those services the role reaches only the objects and secrets the statements
/// above allow, and the key's own policy must still let the role use it. A log group's
/// key needs nothing here: CloudWatch Logs encrypts with its own service principal,
/// which the key policy allows.
fn kms_statement(sources: bool, secrets: bool) -> Option<Value> {
    let services: Vec<Value> = [("s3", sources), ("secretsmanager", secrets)]
        .into_iter()
        .filter(|(_, used)| *used)
        .map(|(service, _)| json!({"Fn::Sub": format!("{service}.${{AWS::Region}}.*")}))
        .collect();
    if services.is_empty() {
        return None;
    }
    Some(json!({
        "Sid": "DecryptWithCustomerKeys",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:*:key/*"},
        "Condition": {"StringLike": {"kms:ViaService": services}}
    }))
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

/// ARNs of the EC2 resources of `kind` (`subnet`, `security-group`) that `lists` name:
/// each id of a literal list, in this account and region. A list given as one intrinsic (a
/// `List<AWS::EC2::Subnet::Id>` parameter, say) cannot be turned into ARNs within IAM's
/// policy size (its value may be 4,096 characters), so it is every resource of that kind in
/// this account and region.
fn ec2_arns(lists: &[Value], kind: &str) -> Vec<Value> {
    let arn = |id: Value| {
        json!({"Fn::Sub": [
            format!("arn:${{AWS::Partition}}:ec2:${{AWS::Region}}:${{AWS::AccountId}}:{kind}/${{Id}}"),
            {"Id": id}
        ]})
    };
    let mut out = Vec::new();
    for list in lists {
        match list {
            Value::Array(ids) => out.extend(ids.iter().cloned().map(arn)),
            _ => out.push(json!({"Fn::Sub": format!(
                "arn:${{AWS::Partition}}:ec2:${{AWS::Region}}:${{AWS::AccountId}}:{kind}/*"
            )})),
        }
    }
    distinct(out)
}

fn vpc_statements(images: &[ImageSpec]) -> Vec<Value> {
    let configs: Vec<&Value> = images
        .iter()
        .filter_map(|image| image.environment.vpc_config.as_ref())
        .collect();
    let lists = |key: &str| -> Vec<Value> {
        distinct(configs.iter().filter_map(|vpc| vpc.get(key)).cloned())
    };
    let subnets = lists("Subnets");
    if subnets.is_empty() {
        return Vec::new();
    }
    let security_groups = lists("SecurityGroupIds");
    let interfaces = json!({"Fn::Sub":
        "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:network-interface/*"});
    let subnet_arns = ec2_arns(&subnets, "subnet");
    let mut create_on = vec![interfaces.clone()];
    create_on.extend(subnet_arns.iter().cloned());
    create_on.extend(ec2_arns(&security_groups, "security-group"));
    let mut condition =
        json!({"StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"}});
    if subnets.iter().all(Value::is_array) {
        condition["ArnEquals"] = json!({"ec2:Subnet": subnet_arns});
    }
    vec![
        json!({
            "Sid": "BuildInVpc",
            "Effect": "Allow",
            "Action": VPC_DESCRIBE_ACTIONS,
            "Resource": "*"
        }),
        json!({
            "Sid": "BuildNetworkInterfaces",
            "Effect": "Allow",
            // CreateNetworkInterface is authorized on the new interface, its subnet and its
            // security groups (Service Authorization Reference, Amazon EC2): only the
            // builds' own; DeleteNetworkInterface's only resource is the interface.
            "Action": ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"],
            "Resource": create_on
        }),
        json!({
            "Sid": "AttachToBuildSubnets",
            "Effect": "Allow",
            // As CodeBuild's own example policy: the permission is for CodeBuild, on
            // interfaces in the builds' subnets.
            "Action": "ec2:CreateNetworkInterfacePermission",
            "Resource": interfaces,
            "Condition": condition
        }),
    ]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_key_prefix_is_what_is_known_before_the_first_substitution() {
        assert_eq!(
            known_key_prefix(&json!("a/b.zip")),
            ("a/b.zip".into(), true)
        );
        assert_eq!(
            known_key_prefix(&json!({"Fn::Sub": "ctx/${Version}/x.zip"})),
            ("ctx/".into(), false)
        );
        assert_eq!(
            known_key_prefix(&json!({"Fn::Join": ["/", ["ctx", "v1", {"Ref": "K"}]]})),
            ("ctx/v1".into(), false)
        );
        assert_eq!(
            known_key_prefix(&json!({"Ref": "Key"})),
            (String::new(), false)
        );
    }

    #[test]
    fn a_literal_key_with_a_substitution_marker_stays_literal_in_sub() {
        assert_eq!(sub_literal("odd/${name}.zip"), "odd/${!name}.zip");
        assert_eq!(common_prefix("ctx/api.zip", "ctx/app.zip"), "ctx/ap");
    }
}
