//! Evaluates a template value with every intrinsic function replaced by the longest value
//! it can take at deploy time, so a size limit can be checked before anything deploys.
//!
//! Pseudo parameters take the longest value any partition gives them; `Ref`/`Fn::GetAtt`
//! of the template's ECR repositories and log groups are built from their (evaluated)
//! names; a parameter is bounded by its `AllowedValues` or `MaxLength`. Everything else
//! (a parameter without a bound, an import, another resource's attribute) takes the
//! longest value its position accepts: a [`Bound`] named by the `Fn::Sub` variable it is
//! bound to, or by the caller. Unknown text is written as `x`, which no `Fn::Split`
//! delimiter used by the engine contains.

use serde_json::{Map, Value};

use crate::intrinsic::function_name;
use crate::partition::PARTITIONS;

/// Longest stack name: 128 characters (CloudFormation quotas, "Stack name",
/// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html).
pub const MAX_STACK_NAME: usize = 128;
/// A stack id ends in a UUID: 36 characters.
pub const STACK_UUID_CHARS: usize = 36;
/// An account id has 12 digits.
pub const ACCOUNT_ID_CHARS: usize = 12;
/// The DNS suffixes of every partition (`AWS::URLSuffix`), from the SDKs' partitions.json
/// (aws/aws-sdk-js-v3 `packages/util-endpoints/src/lib/aws/partitions.json`).
pub const DNS_SUFFIXES: &[&str] = &[
    "amazonaws.com",
    "amazonaws.com.cn",
    "c2s.ic.gov",
    "sc2s.sgov.gov",
    "cloud.adc-e.uk",
    "csp.hci.ic.gov",
    "amazonaws.eu",
];

/// The longest value that an unknown intrinsic can take at one position, in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound(pub usize);

impl Bound {
    /// S3 bucket names: 3 to 63 characters
    /// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
    pub const S3_BUCKET: Bound = Bound(63);
    /// S3 object keys: up to 1,024 bytes
    /// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html).
    pub const S3_KEY: Bound = Bound(1024);
    /// ECR repository names: up to 256 characters (CreateRepository `repositoryName`).
    pub const REPOSITORY_NAME: Bound = Bound(256);
    /// ECR pull-through cache prefixes: 2 to 30 characters (CreatePullThroughCacheRule
    /// `ecrRepositoryPrefix`).
    pub const PULL_THROUGH_PREFIX: Bound = Bound(30);
    /// Log group names: up to 512 characters (CreateLogGroup `logGroupName`).
    pub const LOG_GROUP_NAME: Bound = Bound(512);
    /// Subnet ids: `subnet-` and 17 hexadecimal digits.
    pub const SUBNET_ID: Bound = Bound(24);
    /// A Secrets Manager secret ARN: a name of up to 512 characters (CreateSecret
    /// `Name`) after `arn:<partition>:secretsmanager:<region>:<account>:secret:`, and `-`
    /// with 6 random characters.
    pub const SECRET_ARN: Bound = Bound(64 + 512 + 7);
    /// Anything else: a CloudFormation parameter value is at most 4,096 bytes (quotas page
    /// above), and so is any other text an intrinsic can produce here.
    pub const UNKNOWN: Bound = Bound(4096);

    /// The bound of a `Fn::Sub` variable by the name the engine gives it.
    pub fn of_variable(name: &str) -> Option<Bound> {
        Some(match name {
            "Bucket" => Bound::S3_BUCKET,
            "Name" => Bound::REPOSITORY_NAME,
            "Prefix" => Bound::PULL_THROUGH_PREFIX,
            "Group" => Bound::LOG_GROUP_NAME,
            "Subnet" => Bound::SUBNET_ID,
            "StackUuid" => Bound(STACK_UUID_CHARS),
            _ => return None,
        })
    }
}

/// The evaluator over one expanded template.
#[derive(Debug, Clone, Copy)]
pub struct WorstCase<'a> {
    resources: Option<&'a Map<String, Value>>,
    parameters: Option<&'a Map<String, Value>>,
}

/// Nesting depth after which a value is taken as unknown (templates are at most 100 deep).
const MAX_DEPTH: usize = 64;

impl<'a> WorstCase<'a> {
    /// An evaluator for the expanded `template`.
    pub fn new(template: &'a Value) -> Self {
        WorstCase {
            resources: template.get("Resources").and_then(Value::as_object),
            parameters: template.get("Parameters").and_then(Value::as_object),
        }
    }

    /// `value` with every intrinsic replaced by its longest value; `None` when it is
    /// `AWS::NoValue` (the key or list item disappears).
    pub fn evaluate(&self, value: &Value, bound: Bound) -> Option<Value> {
        self.eval(value, bound, 0)
    }

    fn eval(&self, value: &Value, bound: Bound, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return Some(Value::String(filler(bound.0)));
        }
        if let Some(name) = function_name(value) {
            return self.function(name, value.get(name)?, bound, depth + 1);
        }
        match value {
            Value::Array(items) => Some(Value::Array(
                items
                    .iter()
                    .filter_map(|item| self.eval(item, bound, depth + 1))
                    .collect(),
            )),
            Value::Object(map) => Some(Value::Object(
                map.iter()
                    .filter_map(|(k, v)| Some((k.clone(), self.eval(v, bound, depth + 1)?)))
                    .collect(),
            )),
            other => Some(other.clone()),
        }
    }

    /// The longest text of `value` (a list is joined by commas, as CloudFormation does
    /// when a list lands where a string is expected).
    fn text(&self, value: &Value, bound: Bound, depth: usize) -> Option<String> {
        Some(match self.eval(value, bound, depth)? {
            Value::String(text) => text,
            Value::Array(items) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map_or_else(|| item.to_string(), str::to_owned)
                })
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        })
    }

    fn function(&self, name: &str, args: &Value, bound: Bound, depth: usize) -> Option<Value> {
        let unknown = || Some(Value::String(filler(bound.0)));
        match name {
            "Ref" => match args.as_str() {
                Some(target) => self.reference(target, bound),
                None => unknown(),
            },
            "Fn::GetAtt" => {
                let (id, attribute) = match args {
                    Value::Array(items) => match items.as_slice() {
                        [Value::String(id), Value::String(attr)] => (id.as_str(), attr.as_str()),
                        _ => return unknown(),
                    },
                    Value::String(dotted) => match dotted.split_once('.') {
                        Some(pair) => pair,
                        None => return unknown(),
                    },
                    _ => return unknown(),
                };
                Some(Value::String(self.attribute(id, attribute, bound, depth)))
            }
            "Fn::Sub" => {
                let (text, variables) = match args {
                    Value::String(text) => (text.as_str(), None),
                    Value::Array(items) => match items.as_slice() {
                        [Value::String(text), Value::Object(vars)] => (text.as_str(), Some(vars)),
                        [Value::String(text)] => (text.as_str(), None),
                        _ => return unknown(),
                    },
                    _ => return unknown(),
                };
                Some(Value::String(
                    self.substitute(text, variables, bound, depth),
                ))
            }
            "Fn::Join" => {
                let Value::Array(items) = args else {
                    return unknown();
                };
                let [Value::String(delimiter), list] = items.as_slice() else {
                    return unknown();
                };
                match self.eval(list, bound, depth)? {
                    Value::Array(parts) => Some(Value::String(
                        parts
                            .iter()
                            .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                            .collect::<Vec<_>>()
                            .join(delimiter),
                    )),
                    _ => unknown(),
                }
            }
            "Fn::Split" => {
                let Value::Array(items) = args else {
                    return unknown();
                };
                let [Value::String(delimiter), source] = items.as_slice() else {
                    return unknown();
                };
                let text = self.text(source, bound, depth)?;
                if delimiter.is_empty() {
                    return Some(Value::Array(vec![Value::String(text)]));
                }
                Some(Value::Array(
                    text.split(delimiter.as_str())
                        .map(|part| Value::String(part.to_owned()))
                        .collect(),
                ))
            }
            "Fn::Select" => {
                let Value::Array(items) = args else {
                    return unknown();
                };
                let [index, list] = items.as_slice() else {
                    return unknown();
                };
                let index = index
                    .as_u64()
                    .or_else(|| index.as_str().and_then(|s| s.parse().ok()));
                match (self.eval(list, bound, depth)?, index) {
                    (Value::Array(list), Some(index)) => usize::try_from(index)
                        .ok()
                        .and_then(|i| list.get(i).cloned())
                        .or_else(unknown),
                    (Value::Array(list), None) => longest(list).or_else(unknown),
                    _ => unknown(),
                }
            }
            "Fn::If" => {
                let Value::Array(items) = args else {
                    return unknown();
                };
                let [_, then, otherwise] = items.as_slice() else {
                    return unknown();
                };
                let candidates: Vec<Value> = [then, otherwise]
                    .into_iter()
                    .filter_map(|branch| self.eval(branch, bound, depth))
                    .collect();
                // Both branches NoValue: the value disappears.
                longest(candidates)
            }
            _ => unknown(),
        }
    }

    /// The longest value of `Ref target`.
    fn reference(&self, target: &str, bound: Bound) -> Option<Value> {
        if target == "AWS::NoValue" {
            return None;
        }
        if let Some(value) = pseudo(target) {
            return Some(Value::String(value));
        }
        if let Some(declaration) = self.parameters.and_then(|p| p.get(target)) {
            return Some(Value::String(filler(parameter_bound(declaration, bound).0)));
        }
        let text = match self.resource(target) {
            Some(("AWS::ECR::Repository", properties)) => self.repository_name(properties),
            Some(("AWS::Logs::LogGroup", properties)) => self.log_group_name(properties),
            _ => filler(bound.0),
        };
        Some(Value::String(text))
    }

    /// The longest value of `Fn::GetAtt [id, attribute]`.
    fn attribute(&self, id: &str, attribute: &str, bound: Bound, _depth: usize) -> String {
        let partition = longest_partition();
        let region = longest_region();
        let account = filler(ACCOUNT_ID_CHARS);
        match (self.resource(id), attribute) {
            (Some(("AWS::ECR::Repository", properties)), "Arn") => format!(
                "arn:{partition}:ecr:{region}:{account}:repository/{}",
                self.repository_name(properties)
            ),
            (Some(("AWS::ECR::Repository", properties)), "RepositoryUri") => format!(
                "{account}.dkr.ecr.{region}.{}/{}",
                longest_dns_suffix(),
                self.repository_name(properties)
            ),
            (Some(("AWS::Logs::LogGroup", properties)), "Arn") => format!(
                "arn:{partition}:logs:{region}:{account}:log-group:{}:*",
                self.log_group_name(properties)
            ),
            _ => filler(bound.0),
        }
    }

    fn resource(&self, id: &str) -> Option<(&'a str, Option<&'a Value>)> {
        let resource = self.resources?.get(id)?;
        let kind = resource.get("Type")?.as_str()?;
        Some((kind, resource.get("Properties")))
    }

    fn repository_name(&self, properties: Option<&Value>) -> String {
        self.named(properties, "RepositoryName", Bound::REPOSITORY_NAME)
    }

    fn log_group_name(&self, properties: Option<&Value>) -> String {
        self.named(properties, "LogGroupName", Bound::LOG_GROUP_NAME)
    }

    /// A resource's name property, evaluated; the longest generated name when absent.
    fn named(&self, properties: Option<&Value>, key: &str, bound: Bound) -> String {
        properties
            .and_then(|p| p.get(key))
            .and_then(|name| self.text(name, bound, 1))
            .unwrap_or_else(|| filler(bound.0))
    }

    fn substitute(
        &self,
        text: &str,
        variables: Option<&Map<String, Value>>,
        bound: Bound,
        depth: usize,
    ) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            if let Some(literal) = after.strip_prefix('!') {
                out.push_str("${");
                rest = literal;
                continue;
            }
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                return out;
            };
            let name = &after[..end];
            let variable_bound = Bound::of_variable(name).unwrap_or(bound);
            let value = match variables.and_then(|vars| vars.get(name)) {
                Some(value) => self.text(value, variable_bound, depth).unwrap_or_default(),
                None => match name.split_once('.') {
                    Some((id, attribute)) if !name.starts_with("AWS::") => {
                        self.attribute(id, attribute, variable_bound, depth)
                    }
                    _ => self
                        .reference(name, variable_bound)
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                },
            };
            out.push_str(&value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// The longest value of a parameter: its longest allowed value, its `MaxLength`, else
/// the bound of its position.
fn parameter_bound(declaration: &Value, bound: Bound) -> Bound {
    if let Some(Value::Array(allowed)) = declaration.get("AllowedValues") {
        let longest = allowed
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string().len(), str::len))
            .max();
        if let Some(longest) = longest {
            return Bound(longest);
        }
    }
    let max_length = declaration.get("MaxLength").and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    });
    max_length
        .and_then(|n| usize::try_from(n).ok())
        .map_or(bound, Bound)
}

/// The longest value of a pseudo parameter, or `None` when `name` is not one.
fn pseudo(name: &str) -> Option<String> {
    Some(match name {
        "AWS::Partition" => longest_partition().to_owned(),
        "AWS::Region" => longest_region().to_owned(),
        "AWS::AccountId" => filler(ACCOUNT_ID_CHARS),
        "AWS::StackName" => filler(MAX_STACK_NAME),
        "AWS::StackId" => format!(
            "arn:{}:cloudformation:{}:{}:stack/{}/{}",
            longest_partition(),
            longest_region(),
            filler(ACCOUNT_ID_CHARS),
            filler(MAX_STACK_NAME),
            filler(STACK_UUID_CHARS)
        ),
        "AWS::URLSuffix" => longest_dns_suffix().to_owned(),
        _ => return None,
    })
}

fn longest_partition() -> &'static str {
    PARTITIONS
        .iter()
        .map(|p| p.id)
        .max_by_key(|id| id.len())
        .unwrap_or("aws-us-gov")
}

fn longest_region() -> &'static str {
    PARTITIONS
        .iter()
        .flat_map(|p| p.known_regions.iter().copied())
        .max_by_key(|region| region.len())
        .unwrap_or("us-isof-south-1")
}

fn longest_dns_suffix() -> &'static str {
    DNS_SUFFIXES
        .iter()
        .copied()
        .max_by_key(|suffix| suffix.len())
        .unwrap_or("amazonaws.com.cn")
}

fn filler(chars: usize) -> String {
    "x".repeat(chars)
}

/// The value whose compact JSON is longest.
fn longest(values: Vec<Value>) -> Option<Value> {
    values.into_iter().max_by_key(|v| v.to_string().len())
}

/// Characters of `value` as compact JSON, whitespace not counted (IAM's way of
/// measuring a policy).
pub fn non_whitespace_chars(value: &Value) -> usize {
    value
        .to_string()
        .chars()
        .filter(|c| !c.is_whitespace())
        .count()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_stack_uuid_is_36_characters_in_the_worst_case() {
        let template = json!({"Resources": {}});
        let worst = WorstCase::new(&template);
        let uuid = json!({"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]});
        assert_eq!(
            worst.evaluate(&uuid, Bound::UNKNOWN),
            Some(json!("x".repeat(36)))
        );
    }

    #[test]
    fn sub_uses_the_bounds_of_its_variables_and_pseudo_parameters() {
        let template = json!({"Parameters": {"B": {"Type": "String"}, "C": {"Type": "String", "AllowedValues": ["a", "abc"]}}});
        let worst = WorstCase::new(&template);
        let arn = json!({"Fn::Sub": ["arn:${AWS::Partition}:s3:::${Bucket}/${C}/${!Literal}", {"Bucket": {"Ref": "B"}}]});
        let text = worst.evaluate(&arn, Bound::UNKNOWN).expect("a value");
        assert_eq!(
            text,
            json!(format!(
                "arn:aws-us-gov:s3:::{}/xxx/${{Literal}}",
                "x".repeat(63)
            ))
        );
        assert_eq!(
            worst.evaluate(&json!({"Ref": "AWS::NoValue"}), Bound::UNKNOWN),
            None
        );
        assert_eq!(
            worst.evaluate(
                &json!([1, {"Fn::If": ["C", {"Ref": "AWS::NoValue"}, {"Ref": "AWS::NoValue"}]}]),
                Bound::UNKNOWN
            ),
            Some(json!([1]))
        );
    }
}
