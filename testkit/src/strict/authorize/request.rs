//! What IAM authorizes an HTTP request as: its action, the resource ARNs and the condition
//! keys we write policies with.
//!
//! Each operation's resource type comes from the Service Authorization Reference ("Actions,
//! resources, and condition keys for Amazon ECR / AWS CodeBuild / AWS Systems Manager /
//! Amazon DynamoDB / AWS CloudFormation / Amazon S3 / AWS Lambda / IAM / Amazon Inspector2":
//! https://docs.aws.amazon.com/service-authorization/latest/reference/). An operation not
//! listed here is an error, so a call the product starts making is authorized only once its
//! resource type is written down, never waved through.

use std::collections::BTreeMap;

use serde_json::Value;

use super::policy::Request;

/// The parts of an HTTP request the mapping reads.
#[derive(Debug, Clone)]
pub struct Http<'a> {
    /// The SigV4 scope's service (`ecr`, `s3`, `execute-api`, ...).
    pub service: &'a str,
    /// The SigV4 scope's region.
    pub region: &'a str,
    /// The account the emulated services belong to.
    pub account: &'a str,
    /// The HTTP method.
    pub method: &'a str,
    /// The URI path.
    pub path: &'a str,
    /// The URI query, without `?`.
    pub query: &'a str,
    /// The `X-Amz-Target` header of a JSON-protocol call.
    pub target: Option<&'a str>,
    /// The body.
    pub body: &'a [u8],
}

/// The partition of a region.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else {
        "aws"
    }
}

/// The IAM request of `http`, or why the strict layer cannot tell.
pub fn of_http(http: &Http<'_>) -> Result<Request, String> {
    let json = || serde_json::from_slice::<Value>(http.body).unwrap_or(Value::Null);
    let arn = |service: &str, rest: &str| {
        format!(
            "arn:{}:{service}:{}:{}:{rest}",
            partition(http.region),
            http.region,
            http.account
        )
    };
    let operation = http
        .target
        .and_then(|t| t.split_once('.'))
        .map(|(_, op)| op);
    match (http.service, operation) {
        ("ecr", Some(op)) => ecr(op, &json(), http),
        ("codebuild", Some(op)) => codebuild(op, &json(), &arn),
        ("ssm", Some(op)) => ssm(op, &json(), &arn),
        ("dynamodb", Some(op)) => {
            let body = json();
            let table = text(&body, "TableName");
            Ok(plain(
                format!("dynamodb:{op}"),
                arn("dynamodb", &format!("table/{table}")),
            ))
        }
        ("logs", Some(op)) => logs(op, &json(), &arn),
        ("cloudformation", _) => cloudformation(http, &arn),
        ("iam", _) => iam(http),
        ("sts", _) => sts(http),
        ("s3", _) => s3(http),
        ("lambda", _) => lambda(http, &arn),
        ("inspector2", _) => inspector2(http),
        (service, op) => Err(format!(
            "the strict layer does not know how IAM authorizes {service} {}",
            op.map_or_else(|| format!("{} {}", http.method, http.path), str::to_string)
        )),
    }
}

fn plain(action: String, resource: String) -> Request {
    Request {
        action,
        resources: vec![resource],
        context: BTreeMap::new(),
    }
}

fn text<'a>(body: &'a Value, key: &str) -> &'a str {
    body.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// ECR: repository operations name the repository (in `registryId`'s registry, the
/// caller's by default); registry operations and `GetAuthorizationToken` take `*`.
fn ecr(op: &str, body: &Value, http: &Http<'_>) -> Result<Request, String> {
    let action = format!("ecr:{op}");
    let registry = body
        .get("registryId")
        .and_then(Value::as_str)
        .unwrap_or(http.account);
    let repository = |name: &str| {
        format!(
            "arn:{}:ecr:{}:{registry}:repository/{name}",
            partition(http.region),
            http.region
        )
    };
    let resources = match op {
        "GetAuthorizationToken"
        | "DescribeRegistry"
        | "PutReplicationConfiguration"
        | "GetRegistryPolicy"
        | "PutRegistryPolicy"
        | "DeleteRegistryPolicy"
        | "GetRegistryScanningConfiguration"
        | "PutRegistryScanningConfiguration"
        | "DescribeRepositoryCreationTemplates"
        | "CreateRepositoryCreationTemplate"
        | "UpdateRepositoryCreationTemplate"
        | "DeleteRepositoryCreationTemplate"
        | "DescribePullThroughCacheRules" => vec!["*".to_string()],
        "TagResource" | "UntagResource" | "ListTagsForResource" => {
            vec![text(body, "resourceArn").to_string()]
        }
        "DescribeRepositories" => match body.get("repositoryNames").and_then(Value::as_array) {
            Some(names) if !names.is_empty() => names
                .iter()
                .filter_map(Value::as_str)
                .map(repository)
                .collect(),
            // Every repository of the registry: IAM authorizes it against all of them.
            _ => vec![repository("*")],
        },
        "CreateRepository"
        | "DeleteRepository"
        | "DescribeImages"
        | "BatchGetImage"
        | "BatchDeleteImage"
        | "PutImage"
        | "ListImages"
        | "GetDownloadUrlForLayer"
        | "BatchCheckLayerAvailability"
        | "InitiateLayerUpload"
        | "UploadLayerPart"
        | "CompleteLayerUpload"
        | "PutLifecyclePolicy"
        | "GetLifecyclePolicy"
        | "DeleteLifecyclePolicy"
        | "SetRepositoryPolicy"
        | "GetRepositoryPolicy"
        | "DeleteRepositoryPolicy"
        | "PutImageTagMutability"
        | "PutImageScanningConfiguration"
        | "DescribeImageScanFindings"
        | "StartImageScan"
        | "ListImageReferrers"
        | "DescribeImageSigningStatus" => vec![repository(text(body, "repositoryName"))],
        other => {
            return Err(format!(
                "the strict layer does not know the resource type of ecr:{other}"
            ));
        }
    };
    Ok(Request {
        action,
        resources,
        context: BTreeMap::new(),
    })
}

/// The project name of a project name, project ARN or build id (`<project>:<uuid>` or a
/// build ARN).
fn project_of(name: &str) -> &str {
    let name = name
        .rsplit_once(":project/")
        .map_or(name, |(_, project)| project);
    let name = name.rsplit_once(":build/").map_or(name, |(_, build)| build);
    name.split_once(':').map_or(name, |(project, _)| project)
}

/// CodeBuild: every operation on builds or projects names the project.
fn codebuild(
    op: &str,
    body: &Value,
    arn: &dyn Fn(&str, &str) -> String,
) -> Result<Request, String> {
    let names: Vec<&str> = match op {
        "StartBuild" | "ListBuildsForProject" => vec![text(body, "projectName")],
        "StopBuild" | "RetryBuild" => vec![text(body, "id")],
        "BatchGetBuilds" => super::super::array(body, "ids")
            .iter()
            .filter_map(Value::as_str)
            .collect(),
        "BatchGetProjects" => super::super::array(body, "names")
            .iter()
            .filter_map(Value::as_str)
            .collect(),
        other => {
            return Err(format!(
                "the strict layer does not know the resource type of codebuild:{other}"
            ));
        }
    };
    let mut resources: Vec<String> = names
        .into_iter()
        .map(|n| arn("codebuild", &format!("project/{}", project_of(n))))
        .collect();
    resources.dedup();
    Ok(Request {
        action: format!("codebuild:{op}"),
        resources,
        context: BTreeMap::new(),
    })
}

/// Systems Manager parameters: `parameter/<name without its leading slash>`.
fn ssm(op: &str, body: &Value, arn: &dyn Fn(&str, &str) -> String) -> Result<Request, String> {
    let parameter = |name: &str| {
        arn(
            "ssm",
            &format!("parameter/{}", name.trim_start_matches('/')),
        )
    };
    let resources = match op {
        "PutParameter" | "GetParameter" | "DeleteParameter" | "GetParameterHistory" => {
            vec![parameter(text(body, "Name"))]
        }
        "GetParameters" | "DeleteParameters" => super::super::array(body, "Names")
            .iter()
            .filter_map(Value::as_str)
            .map(parameter)
            .collect(),
        other => {
            return Err(format!(
                "the strict layer does not know the resource type of ssm:{other}"
            ));
        }
    };
    Ok(Request {
        action: format!("ssm:{op}"),
        resources,
        context: BTreeMap::new(),
    })
}

/// CloudWatch Logs: the log group (and stream) named.
fn logs(op: &str, body: &Value, arn: &dyn Fn(&str, &str) -> String) -> Result<Request, String> {
    let group = text(body, "logGroupName");
    let resource = match op {
        "CreateLogStream" | "PutLogEvents" => arn(
            "logs",
            &format!(
                "log-group:{group}:log-stream:{}",
                text(body, "logStreamName")
            ),
        ),
        "CreateLogGroup" | "PutRetentionPolicy" | "DescribeLogStreams" | "GetLogEvents" => {
            arn("logs", &format!("log-group:{group}"))
        }
        other => {
            return Err(format!(
                "the strict layer does not know the resource type of logs:{other}"
            ));
        }
    };
    Ok(plain(format!("logs:{op}"), resource))
}

/// The form fields of a Query-protocol request (CloudFormation, IAM, STS).
fn form(http: &Http<'_>) -> BTreeMap<String, String> {
    let mut fields: BTreeMap<String, String> = form_urlencoded::parse(http.query.as_bytes())
        .into_owned()
        .collect();
    fields.extend(form_urlencoded::parse(http.body).into_owned());
    fields
}

/// CloudFormation: stack operations name the stack (its ARN, or `stack/<name>/*` for a
/// name: the id is not in the request).
fn cloudformation(http: &Http<'_>, arn: &dyn Fn(&str, &str) -> String) -> Result<Request, String> {
    let fields = form(http);
    let op = fields
        .get("Action")
        .ok_or("a CloudFormation request without an Action")?;
    let stack = fields.get("StackName").map(String::as_str).unwrap_or("*");
    let resource = if stack.starts_with("arn:") {
        stack.to_string()
    } else {
        arn("cloudformation", &format!("stack/{stack}/*"))
    };
    match op.as_str() {
        "DescribeStackResource"
        | "DescribeStackResources"
        | "DescribeStacks"
        | "GetTemplate"
        | "ListStackResources"
        | "CreateStack"
        | "UpdateStack"
        | "DeleteStack"
        | "DescribeStackEvents"
        | "GetTemplateSummary"
        | "CreateChangeSet"
        | "DescribeChangeSet"
        | "ExecuteChangeSet"
        | "DeleteChangeSet"
        | "ListChangeSets" => Ok(plain(format!("cloudformation:{op}"), resource)),
        // No resource type (Service Authorization Reference, AWS CloudFormation).
        "ValidateTemplate" | "ListStacks" | "DescribeAccountLimits" => {
            Ok(plain(format!("cloudformation:{op}"), "*".into()))
        }
        other => Err(format!(
            "the strict layer does not know the resource type of cloudformation:{other}"
        )),
    }
}

/// IAM: `CreateServiceLinkedRole` names the role the service's name implies, and carries
/// `iam:AWSServiceName`.
fn iam(http: &Http<'_>) -> Result<Request, String> {
    let fields = form(http);
    let op = fields
        .get("Action")
        .ok_or("an IAM request without an Action")?;
    match op.as_str() {
        "CreateServiceLinkedRole" => {
            let service = fields.get("AWSServiceName").cloned().unwrap_or_default();
            let mut request = plain(
                "iam:CreateServiceLinkedRole".into(),
                format!(
                    "arn:{}:iam::{}:role/aws-service-role/{service}/*",
                    partition(http.region),
                    http.account
                ),
            );
            request
                .context
                .insert("iam:awsservicename".into(), vec![service]);
            Ok(request)
        }
        other => Err(format!(
            "the strict layer does not know the resource type of iam:{other}"
        )),
    }
}

/// STS: `GetCallerIdentity` needs no permission ("No permissions are required to perform
/// this operation", STS API reference).
fn sts(http: &Http<'_>) -> Result<Request, String> {
    let fields = form(http);
    match fields.get("Action").map(String::as_str) {
        Some("GetCallerIdentity") => Ok(Request {
            action: "sts:GetCallerIdentity".into(),
            resources: Vec::new(),
            context: BTreeMap::new(),
        }),
        other => Err(format!(
            "the strict layer does not know the resource type of sts:{}",
            other.unwrap_or("?")
        )),
    }
}

/// S3, path style (`/<bucket>/<key>`): object reads are `s3:GetObject`, or
/// `s3:GetObjectVersion` with `versionId` (HEAD included); bucket subresources their own
/// action.
fn s3(http: &Http<'_>) -> Result<Request, String> {
    let path = http.path.trim_start_matches('/');
    let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
    let query: BTreeMap<String, String> = form_urlencoded::parse(http.query.as_bytes())
        .into_owned()
        .collect();
    let has = |name: &str| query.contains_key(name);
    let s3arn = |rest: &str| format!("arn:{}:s3:::{rest}", partition(http.region));
    if bucket.is_empty() {
        return Ok(plain("s3:ListAllMyBuckets".into(), "*".into()));
    }
    let (action, resource) = if key.is_empty() {
        let action = match http.method {
            "GET" if has("acl") => "s3:GetBucketAcl",
            "GET" if has("location") => "s3:GetBucketLocation",
            "GET" if has("versioning") => "s3:GetBucketVersioning",
            "GET" if has("policy") => "s3:GetBucketPolicy",
            "GET" | "HEAD" => "s3:ListBucket",
            "PUT" if query.is_empty() => "s3:CreateBucket",
            "PUT" if has("versioning") => "s3:PutBucketVersioning",
            "PUT" if has("policy") => "s3:PutBucketPolicy",
            "PUT" if has("encryption") => "s3:PutEncryptionConfiguration",
            "PUT" if has("publicAccessBlock") => "s3:PutBucketPublicAccessBlock",
            "PUT" if has("tagging") => "s3:PutBucketTagging",
            "DELETE" if query.is_empty() => "s3:DeleteBucket",
            _ => {
                return Err(format!(
                    "the strict layer does not know the action of S3 {} /{bucket}?{}",
                    http.method, http.query
                ));
            }
        };
        (action, s3arn(bucket))
    } else {
        let versioned = has("versionId");
        let action = match http.method {
            "GET" | "HEAD" if has("tagging") => "s3:GetObjectTagging",
            "GET" | "HEAD" if versioned => "s3:GetObjectVersion",
            "GET" | "HEAD" => "s3:GetObject",
            "PUT" | "POST" => "s3:PutObject",
            "DELETE" if versioned => "s3:DeleteObjectVersion",
            "DELETE" => "s3:DeleteObject",
            _ => {
                return Err(format!(
                    "the strict layer does not know the action of S3 {} /{bucket}/{key}",
                    http.method
                ));
            }
        };
        (action, s3arn(&format!("{bucket}/{key}")))
    };
    Ok(plain(action.into(), resource))
}

/// Lambda: `Invoke` (`POST /2015-03-31/functions/<name>/invocations`) is
/// `lambda:InvokeFunction` on the function (a name, or an ARN as given).
fn lambda(http: &Http<'_>, arn: &dyn Fn(&str, &str) -> String) -> Result<Request, String> {
    let rest = http.path.strip_prefix("/2015-03-31/functions/");
    let Some(function) = rest.and_then(|r| r.strip_suffix("/invocations")) else {
        return Err(format!(
            "the strict layer does not know the action of Lambda {} {}",
            http.method, http.path
        ));
    };
    let function = percent_decode(function);
    let resource = if function.starts_with("arn:") {
        function
    } else {
        arn("lambda", &format!("function:{function}"))
    };
    Ok(plain("lambda:InvokeFunction".into(), resource))
}

/// Inspector: `ListFindings` and `ListCoverage` take no resource (`*`).
fn inspector2(http: &Http<'_>) -> Result<Request, String> {
    let action = match http.path {
        "/findings/list" => "inspector2:ListFindings",
        "/coverage/list" => "inspector2:ListCoverage",
        other => {
            return Err(format!(
                "the strict layer does not know the action of Inspector {} {other}",
                http.method
            ));
        }
    };
    Ok(plain(action.into(), "*".into()))
}

fn percent_decode(text: &str) -> String {
    form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http<'a>(service: &'a str, target: Option<&'a str>, body: &'a str) -> Http<'a> {
        Http {
            service,
            region: "eu-west-1",
            account: "123456789012",
            method: "POST",
            path: "/",
            query: "",
            target,
            body: body.as_bytes(),
        }
    }

    #[test]
    fn ecr_calls_name_the_repository_in_its_region() {
        let r = of_http(&http(
            "ecr",
            Some("AmazonEC2ContainerRegistry_V20150921.PutImage"),
            r#"{"repositoryName": "cib/api-1"}"#,
        ))
        .expect("known");
        assert_eq!(r.action, "ecr:PutImage");
        assert_eq!(
            r.resources,
            ["arn:aws:ecr:eu-west-1:123456789012:repository/cib/api-1"]
        );
        let r = of_http(&http(
            "ecr",
            Some("AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"),
            "{}",
        ))
        .expect("known");
        assert_eq!(r.resources, ["*"]);
        assert!(
            of_http(&http(
                "ecr",
                Some("AmazonEC2ContainerRegistry_V20150921.Frobnicate"),
                "{}"
            ))
            .is_err()
        );
    }

    #[test]
    fn builds_are_authorized_on_their_projects() {
        let r = of_http(&http(
            "codebuild",
            Some("CodeBuild_20161006.BatchGetBuilds"),
            r#"{"ids": ["p-Arm64:1111", "arn:aws:codebuild:eu-west-1:123456789012:build/p-Arm64:2222", "q:3"]}"#,
        ))
        .expect("known");
        assert_eq!(
            r.resources,
            [
                "arn:aws:codebuild:eu-west-1:123456789012:project/p-Arm64",
                "arn:aws:codebuild:eu-west-1:123456789012:project/q"
            ]
        );
    }

    #[test]
    fn s3_reads_are_object_or_version_reads() {
        let mut h = http("s3", None, "");
        h.method = "HEAD";
        h.path = "/bucket/dir/tar.gz";
        h.query = "versionId=3";
        let r = of_http(&h).expect("known");
        assert_eq!(r.action, "s3:GetObjectVersion");
        assert_eq!(r.resources, ["arn:aws:s3:::bucket/dir/tar.gz"]);
        h.query = "";
        h.method = "GET";
        assert_eq!(of_http(&h).expect("known").action, "s3:GetObject");
        h.path = "/bucket";
        h.query = "location";
        assert_eq!(of_http(&h).expect("known").action, "s3:GetBucketLocation");
    }

    #[test]
    fn a_service_linked_role_carries_its_service_name() {
        let h = http(
            "iam",
            None,
            "Action=CreateServiceLinkedRole&AWSServiceName=replication.ecr.amazonaws.com",
        );
        let r = of_http(&h).expect("known");
        assert_eq!(
            r.context.get("iam:awsservicename"),
            Some(&vec!["replication.ecr.amazonaws.com".to_string()])
        );
    }

    #[test]
    fn invocations_name_the_function() {
        let mut h = http("lambda", None, "");
        h.path = "/2015-03-31/functions/ContainerImageBuild-Provider/invocations";
        let r = of_http(&h).expect("known");
        assert_eq!(
            r.resources,
            ["arn:aws:lambda:eu-west-1:123456789012:function:ContainerImageBuild-Provider"]
        );
        h.path =
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A1%3Afunction%3Af/invocations";
        assert_eq!(
            of_http(&h).expect("known").resources,
            ["arn:aws:lambda:eu-west-1:1:function:f"]
        );
    }
}
