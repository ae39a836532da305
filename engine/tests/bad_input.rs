//! Bad input, table-driven: every case is a small template that must be refused (or warned
//! about) with an exact check id at an exact property path, without a panic, and most cases
//! have a fixed twin that must expand without any error (so a check that can never pass, or
//! that fires on good input, is caught too).

use std::panic::{AssertUnwindSafe, catch_unwind};

use cib_engine::checks::{CATALOG, ids};
use cib_engine::template::{self, ParseError};
use cib_engine::{Caller, ExpandOptions, Finding, Outcome, Severity};
use serde_json::{Map, Value};

/// What a case feeds the engine.
#[derive(Debug, Clone)]
enum Input {
    /// Template text (YAML or JSON), read with `template::parse`.
    Text(String),
    /// Raw bytes, read with `template::parse`.
    Bytes(Vec<u8>),
}

impl Input {
    fn bytes(&self) -> &[u8] {
        match self {
            Input::Text(text) => text.as_bytes(),
            Input::Bytes(bytes) => bytes,
        }
    }
}

/// What a case must produce.
#[derive(Debug, Clone)]
enum Expect {
    /// `template::parse` refuses the input at this 1-based line, with this text in the message.
    Parse { line: usize, message: &'static str },
    /// The expansion reports `id` at exactly `path`.
    Finding {
        id: &'static str,
        path: String,
        /// Text the message or the fix must contain (empty: no requirement).
        text: &'static str,
    },
}

#[derive(Debug, Clone)]
struct Case {
    name: &'static str,
    input: Input,
    options: ExpandOptions,
    expect: Expect,
    /// Other error ids the case may legitimately produce beside the expected one.
    also: Vec<&'static str>,
    /// The same template, fixed: it must parse and expand without any error.
    fixed: Option<Input>,
}

// ---------------------------------------------------------------------------------------------
// Builders

const SOURCE: &str = "Source: {S3Bucket: my-bucket, S3Key: api/context.zip}";

/// A template with one image `ApiImage` whose properties are `props` (YAML lines).
fn image(props: &str) -> String {
    images(&[("ApiImage", props)])
}

/// A template with one image `ApiImage`: the S3 source plus `props`.
fn image_s3(props: &str) -> String {
    image(&format!("{SOURCE}\n{props}"))
}

/// One image `ApiImage` (S3 source plus `props`) and a Lambda function `ApiFunction` with
/// `architectures` whose `Code.ImageUri` is `uri`.
fn lambda_of(props: &str, architectures: &str, uri: &str) -> String {
    format!(
        "{}  ApiFunction:\n    Type: AWS::Lambda::Function\n    Properties:\n      PackageType: Image\n      Role: arn:aws:iam::123456789012:role/api\n      Architectures: {architectures}\n      Code: {{ImageUri: {uri}}}\n",
        image_s3(props)
    )
}

/// A template with several images, each with its properties (YAML lines).
fn images(list: &[(&str, &str)]) -> String {
    let mut out = String::from("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n");
    for (id, props) in list {
        out.push_str(&format!(
            "  {id}:\n    Type: Custom::ContainerImageBuild\n    Properties:\n{}",
            indent(props, 6)
        ));
    }
    out
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| format!("{pad}{line}\n"))
        .collect()
}

/// Appends resources (YAML at resource level, already indented by 2) to a template.
fn with(template: String, resources: &str) -> String {
    format!("{template}{resources}")
}

/// A Lambda function `Fn` running `ApiImage`, with optional architectures.
fn lambda(architectures: Option<&str>) -> String {
    let arch = architectures
        .map(|a| format!("      Architectures: [{a}]\n"))
        .unwrap_or_default();
    format!(
        "  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      PackageType: Image\n      Role: arn:aws:iam::123456789012:role/r\n{arch}      Code: {{ImageUri: !GetAtt ApiImage.ImageUri}}\n"
    )
}

/// `len` characters of deterministic noise (letters and digits) that gzip cannot shrink much.
fn noise(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(ALPHABET[(state % ALPHABET.len() as u64) as usize])
        })
        .collect()
}

fn props(id: &str) -> String {
    format!("Resources.{id}.Properties")
}

fn at(path: &str) -> String {
    format!("Resources.ApiImage.Properties.{path}")
}

fn region(name: &str) -> ExpandOptions {
    ExpandOptions {
        region: Some(name.to_owned()),
        ..ExpandOptions::default()
    }
}

fn caller(caller: Caller) -> ExpandOptions {
    ExpandOptions {
        caller,
        ..ExpandOptions::default()
    }
}

fn case(name: &'static str, input: impl Into<String>, id: &'static str, path: String) -> Case {
    Case {
        name,
        input: Input::Text(input.into()),
        options: ExpandOptions::default(),
        expect: Expect::Finding { id, path, text: "" },
        also: Vec::new(),
        fixed: None,
    }
}

fn parse_case(name: &'static str, input: Input, line: usize, message: &'static str) -> Case {
    Case {
        name,
        input,
        options: ExpandOptions::default(),
        expect: Expect::Parse { line, message },
        also: Vec::new(),
        fixed: None,
    }
}

impl Case {
    fn fixed(mut self, text: impl Into<String>) -> Self {
        self.fixed = Some(Input::Text(text.into()));
        self
    }
    fn options(mut self, options: ExpandOptions) -> Self {
        self.options = options;
        self
    }
    fn text(mut self, wanted: &'static str) -> Self {
        if let Expect::Finding { text, .. } = &mut self.expect {
            *text = wanted;
        }
        self
    }
    fn also(mut self, ids: &[&'static str]) -> Self {
        self.also.extend_from_slice(ids);
        self
    }
}

/// Known regions of the `aws` partition other than `us-east-1` (the stack's region here),
/// from the engine's partition table.
fn aws_regions() -> Vec<&'static str> {
    cib_engine::partition::PARTITIONS
        .iter()
        .filter(|p| p.id == "aws")
        .flat_map(|p| p.known_regions.iter().copied())
        .filter(|r| *r != "us-east-1")
        .collect()
}

fn region_list(regions: &[&str]) -> String {
    format!("ReplicaRegions: [{}]", regions.join(", "))
}

/// `count` images `Image001..`, each with the S3 source plus `props(index)`.
fn many_images(count: usize, props: impl Fn(usize) -> String) -> String {
    let list: Vec<(String, String)> = (1..=count)
        .map(|i| (format!("Image{i:03}"), format!("{SOURCE}\n{}", props(i))))
        .collect();
    let borrowed: Vec<(&str, &str)> = list
        .iter()
        .map(|(id, p)| (id.as_str(), p.as_str()))
        .collect();
    images(&borrowed)
}

// ---------------------------------------------------------------------------------------------
// The cases

fn parse_cases() -> Vec<Case> {
    let good = Input::Text(image_s3(""));
    let deep_yaml = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_json = format!("{{\"a\": {}{}}}", "[".repeat(10_000), "]".repeat(10_000));
    // Compact block sequences (`- - - x`): 10,000 levels in 20 KB. Indented block mappings
    // this deep would be 50 MB, which the size limit refuses first (hostile_input.rs).
    let deep_block = format!("{}x\n", "- ".repeat(10_000));
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n\
                b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
                c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n\
                d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n\
                e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n\
                f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n\
                g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n\
                h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n\
                i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
    let mut invalid_utf8 = image_s3("").into_bytes();
    let line3 = invalid_utf8
        .windows(9)
        .position(|w| w == b"    Type:")
        .unwrap_or(0);
    invalid_utf8.splice(
        line3..line3,
        b"    Description: caf\xC3\x28\n".iter().copied(),
    );
    let mut nul = image_s3("").into_bytes();
    let pos = nul.windows(9).position(|w| w == b"    Type:").unwrap_or(0);
    nul.splice(pos..pos, b"    Description: a\0b\n".iter().copied());
    vec![
        parse_case(
            "malformed YAML: unclosed flow sequence",
            Input::Text(image("Source: {S3Bucket: b, S3Key: k}\nReplicaRegions: [us-west-2\nPlatform: linux/amd64").to_owned()),
            8,
            "",
        )
        .fixed(image_s3("ReplicaRegions: [us-west-2]\nPlatform: linux/amd64")),
        parse_case(
            "malformed YAML: bad indentation",
            Input::Text("Resources:\n  ApiImage:\n    Type: Custom::ContainerImageBuild\n   Properties: {}\n".to_owned()),
            4,
            "",
        )
        .fixed(image_s3("")),
        case(
            "unknown tag inside an image",
            image_s3("Platform: !Bogus linux/amd64"),
            ids::UNKNOWN_TAG_IN_IMAGE,
            at("Platform"),
        )
        .text("!Bogus")
        .also(&[ids::SCHEMA, ids::UNRESOLVABLE])
        .fixed(image_s3("Platform: linux/amd64")),
        case(
            "unknown tag outside the images",
            format!(
                "{}  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Rain::Name topic\n",
                image_s3("")
            ),
            ids::UNKNOWN_TAG_KEPT,
            "Resources.Topic.Properties.TopicName".to_owned(),
        )
        .text("!Rain::Name")
        .fixed(format!(
            "{}  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: topic\n",
            image_s3("")
        )),
        case(
            "image loop with a collection not known at expansion",
            "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Fn::ForEach::Images:\n    - S\n    - !GetAZs ''\n    - ${S}Image:\n        Type: Custom::ContainerImageBuild\n        Properties: {Source: {S3Bucket: b, S3Key: k.zip}}\n",
            ids::LOOP_NOT_EXPANDABLE,
            "Resources.Fn::ForEach::Images".to_owned(),
        )
        .text("collection")
        .fixed("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Fn::ForEach::Images:\n    - S\n    - [a, b]\n    - ${S}Image:\n        Type: Custom::ContainerImageBuild\n        Properties: {Source: {S3Bucket: b, S3Key: k.zip}}\n"),
        case(
            "dependency cycle through an image",
            format!(
                "{}  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Sub '${{ApiImage.ImageUri}}-q'\n",
                image_s3("BuildArgs: {QUEUE: !GetAtt Queue.Arn}")
            ),
            ids::DEPENDENCY_CYCLE,
            "Resources.ApiImage.Properties".to_owned(),
        )
        .text("ApiImage -> Queue -> ApiImage")
        .fixed(format!(
            "{}  Queue:\n    Type: AWS::SQS::Queue\n",
            image_s3("BuildArgs: {QUEUE: !GetAtt Queue.Arn}")
        )),
        parse_case(
            "duplicate key",
            Input::Text(image_s3("Platform: linux/amd64\nPlatform: linux/arm64")),
            8,
            "duplicate key `Platform`",
        )
        .fixed(image_s3("Platform: linux/arm64")),
        parse_case(
            "duplicate resource id",
            Input::Text(format!("{}{}", image_s3(""), "  ApiImage:\n    Type: AWS::SNS::Topic\n")),
            7,
            "duplicate key `ApiImage`",
        ),
        parse_case(
            "duplicate key in JSON",
            Input::Text("{\"Resources\": {\"A\": {\"Type\": \"AWS::SNS::Topic\"},\n \"A\": {\"Type\": \"AWS::SNS::Topic\"}}}".to_owned()),
            2,
            "duplicate key",
        )
        .fixed("{\"Resources\": {\"A\": {\"Type\": \"AWS::SNS::Topic\"},\n \"B\": {\"Type\": \"AWS::SNS::Topic\"}}}"),
        parse_case("malformed JSON", Input::Text("{\"Resources\": {\"A\": }\n}".to_owned()), 1, ""),
        parse_case("alias bomb", Input::Text(bomb.to_owned()), 6, "1000000 nodes"),
        parse_case("invalid UTF-8", Input::Bytes(invalid_utf8), 4, "UTF-8"),
        parse_case("NUL byte", Input::Bytes(nul), 4, "NUL"),
        parse_case("10,000-deep flow nesting (YAML)", Input::Text(deep_yaml), 1, "deeper"),
        parse_case("10,000-deep nesting (JSON)", Input::Text(deep_json), 1, "deeper"),
        parse_case("10,000-deep block nesting (YAML)", Input::Text(deep_block), 1, "deeper"),
        parse_case("merge key", Input::Text("Base: &b {Type: AWS::SNS::Topic}\nResources:\n  T:\n    <<: *b\n".to_owned()), 4, "merge"),
        parse_case("two documents", Input::Text("Resources: {}\n---\nResources: {}\n".to_owned()), 2, "second"),
        parse_case("empty template", Input::Text("\n# nothing\n".to_owned()), 1, "empty"),
    ]
    .into_iter()
    .map(|mut c| {
        if c.fixed.is_none() && c.name != "malformed JSON" {
            c.fixed = Some(good.clone());
        }
        c
    })
    .collect()
}

fn structure_cases() -> Vec<Case> {
    vec![
        case(
            "Resources not a mapping",
            "Resources: [a, b]\n",
            ids::STRUCTURE,
            "Resources".into(),
        )
        .fixed(image_s3("")),
        case(
            "no Resources",
            "AWSTemplateFormatVersion: '2010-09-09'\nOutputs: {}\n",
            ids::STRUCTURE,
            "Resources".into(),
        )
        .fixed(image_s3("")),
        case("template is a list", "- a\n- b\n", ids::STRUCTURE, String::new()),
        case(
            "resource not a mapping",
            with(image_s3(""), "  Other: just-a-string\n"),
            ids::STRUCTURE,
            "Resources.Other".into(),
        )
        .fixed(with(image_s3(""), "  Other: {Type: AWS::SNS::Topic}\n")),
        case(
            "Properties not a mapping",
            "Resources:\n  ApiImage:\n    Type: Custom::ContainerImageBuild\n    Properties: [Source]\n",
            ids::SCHEMA,
            props("ApiImage"),
        )
        .fixed(image_s3("")),
        case(
            "missing Source",
            image("Platform: linux/amd64"),
            ids::SCHEMA,
            props("ApiImage"),
        )
        .text("Source")
        .fixed(image_s3("Platform: linux/amd64")),
        case(
            "no Properties at all",
            "Resources:\n  ApiImage:\n    Type: Custom::ContainerImageBuild\n",
            ids::SCHEMA,
            props("ApiImage"),
        )
        .text("Source")
        .fixed(image_s3("")),
    ]
}

fn schema_cases() -> Vec<Case> {
    let vpc = "VpcConfig: {VpcId: vpc-1, Subnets: [subnet-1], SecurityGroupIds: [sg-1]}";
    vec![
        case(
            "Platform: 5",
            image_s3("Platform: 5"),
            ids::SCHEMA,
            at("Platform"),
        )
        .fixed(image_s3("Platform: linux/arm64")),
        case(
            "BuildArgs as a list",
            image_s3("BuildArgs: [A=1, B=2]"),
            ids::SCHEMA,
            at("BuildArgs"),
        )
        .fixed(image_s3("BuildArgs: {A: '1', B: '2'}")),
        case(
            "Scan.FailOnSeverity not a severity",
            image_s3("Scan: {FailOnSeverity: SEVERE}"),
            ids::SCHEMA,
            at("Scan.FailOnSeverity"),
        )
        .fixed(image_s3("Scan: {FailOnSeverity: CRITICAL}")),
        case(
            "Scan.IgnoreFindings name with a space",
            image_s3("Scan: {FailOnSeverity: HIGH, IgnoreFindings: ['CVE-2024-1 x']}"),
            ids::SCHEMA,
            at("Scan.IgnoreFindings[0]"),
        )
        .fixed(image_s3("Scan: {FailOnSeverity: HIGH, IgnoreFindings: [CVE-2024-1]}")),
        case(
            "Scan without FailOnSeverity",
            image_s3("Scan: {IgnoreFindings: [CVE-2024-1]}"),
            ids::SCHEMA,
            at("Scan"),
        )
        .fixed(image_s3("Scan: {FailOnSeverity: LOW, IgnoreFindings: [CVE-2024-1]}")),
        case(
            "BuildArgs value a mapping",
            image_s3("BuildArgs: {A: {x: 1}}"),
            ids::SCHEMA,
            at("BuildArgs.A"),
        )
        .fixed(image_s3("BuildArgs: {A: !Ref AWS::Region}")),
        case(
            "ReplicaRegions as a string",
            image_s3("ReplicaRegions: us-west-2"),
            ids::SCHEMA,
            at("ReplicaRegions"),
        )
        .options(region("us-east-1"))
        .fixed(image_s3("ReplicaRegions: [us-west-2]")),
        case(
            "ReplicaRegions item a number",
            image_s3("ReplicaRegions: [us-west-2, 7]"),
            ids::SCHEMA,
            at("ReplicaRegions[1]"),
        )
        .options(region("us-east-1"))
        .fixed(image_s3("ReplicaRegions: [us-west-2, eu-west-1]")),
        case(
            "TimeoutInMinutes \"abc\"",
            image_s3("TimeoutInMinutes: abc"),
            ids::SCHEMA,
            at("TimeoutInMinutes"),
        )
        .fixed(image_s3("TimeoutInMinutes: 30")),
        case(
            "CacheDisabled \"maybe\"",
            image_s3("CacheDisabled: maybe"),
            ids::SCHEMA,
            at("CacheDisabled"),
        )
        .fixed(image_s3("CacheDisabled: true")),
        case(
            "Platform linux/386",
            image_s3("Platform: linux/386"),
            ids::SCHEMA,
            at("Platform"),
        )
        .fixed(image_s3("Platform: linux/amd64")),
        case(
            "Compression brotli",
            image_s3("Compression: brotli"),
            ids::SCHEMA,
            at("Compression"),
        )
        .fixed(image_s3("Compression: zstd")),
        case(
            "ComputeType not a CodeBuild type",
            image_s3("ComputeType: BUILD_GENERAL1_HUGE"),
            ids::SCHEMA,
            at("ComputeType"),
        )
        .fixed(image_s3("ComputeType: BUILD_GENERAL1_2XLARGE")),
        case(
            "unknown property Platfrom",
            image_s3("Platfrom: linux/arm64"),
            ids::SCHEMA,
            at("Platfrom"),
        )
        .text("did you mean `Platform`?")
        .fixed(image_s3("Platform: linux/arm64")),
        case(
            "unknown property far from any",
            image_s3("Zzzzzzzzz: 1"),
            ids::SCHEMA,
            at("Zzzzzzzzz"),
        )
        .text("known properties here"),
        case(
            "read-only attribute set as a property",
            image_s3("ImageUri: x"),
            ids::SCHEMA,
            at("ImageUri"),
        ),
        case(
            "unknown nested property Repository.Foo",
            image_s3("Repository: {ImageScanOnPush: true, Foo: 1}"),
            ids::SCHEMA,
            at("Repository.Foo"),
        )
        .fixed(image_s3("Repository: {ImageScanOnPush: true}")),
        case(
            "typo in nested property Repository.RepositoryNme",
            image_s3("Repository: {RepositoryNme: api}"),
            ids::SCHEMA,
            at("Repository.RepositoryNme"),
        )
        .text("did you mean `RepositoryName`?")
        .fixed(image_s3("Repository: {RepositoryName: api}")),
        case(
            "unknown nested property VpcConfig.Bar",
            image_s3(&format!("{}, Bar: 1}}", vpc.trim_end_matches('}'))),
            ids::SCHEMA,
            at("VpcConfig.Bar"),
        )
        .fixed(image_s3(vpc)),
        case(
            "VpcConfig without Subnets",
            image_s3("VpcConfig: {VpcId: vpc-1, SecurityGroupIds: [sg-1]}"),
            ids::SCHEMA,
            at("VpcConfig"),
        )
        .text("Subnets")
        .fixed(image_s3(vpc)),
        case(
            "Repository with both names",
            image_s3("Repository: {RepositoryName: api, ExistingRepositoryName: other}"),
            ids::SCHEMA,
            at("Repository"),
        )
        .fixed(image_s3("Repository: {ExistingRepositoryName: other}")),
        case(
            "bad ImageTag pattern",
            image_s3("ImageTag: '-latest tag'"),
            ids::SCHEMA,
            at("ImageTag"),
        )
        .fixed(image_s3("ImageTag: v1.2.3")),
        case(
            "ImageTag with shell text",
            image_s3("ImageTag: '$(touch /tmp/pwned)'"),
            ids::SCHEMA,
            at("ImageTag"),
        )
        .fixed(image_s3("ImageTag: v1")),
        case(
            "TimeoutInMinutes below the minimum",
            image_s3("TimeoutInMinutes: 4"),
            ids::SCHEMA,
            at("TimeoutInMinutes"),
        )
        .fixed(image_s3("TimeoutInMinutes: 5")),
        case(
            "TimeoutInMinutes above CodeBuild's maximum",
            image_s3("TimeoutInMinutes: 2161"),
            ids::SCHEMA,
            at("TimeoutInMinutes"),
        )
        .fixed(image_s3("TimeoutInMinutes: 55")),
        case(
            "RetentionInDays not a CloudWatch value",
            image_s3("BuildLogs: {RetentionInDays: 2}"),
            ids::SCHEMA,
            at("BuildLogs.RetentionInDays"),
        )
        .fixed(image_s3("BuildLogs: {RetentionInDays: 3}")),
        case(
            "empty BuildLogs.KmsKeyId",
            image_s3("BuildLogs: {KmsKeyId: ''}"),
            ids::SCHEMA,
            at("BuildLogs.KmsKeyId"),
        )
        .fixed(image_s3(
            "BuildLogs: {KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'}",
        )),
        case(
            "empty install command",
            image_s3("InstallCommands: [echo hi, '']"),
            ids::SCHEMA,
            at("InstallCommands[1]"),
        )
        .fixed(image_s3("InstallCommands: [echo hi, echo there]")),
        case(
            "bad pull-through cache prefix",
            image_s3("PullThroughCachePrefixes: [ecr-public, 'Docker Hub']"),
            ids::SCHEMA,
            at("PullThroughCachePrefixes[1]"),
        )
        .fixed(image_s3(
            "PullThroughCachePrefixes: [ecr-public, docker-hub]",
        )),
    ]
}

fn build_arg_cases() -> Vec<Case> {
    vec![
        case(
            "build-arg key bad-key",
            image_s3("BuildArgs: {GOOD: '1', bad-key: '2'}"),
            ids::BUILD_ARG_NAME,
            at("BuildArgs.bad-key"),
        )
        .fixed(image_s3("BuildArgs: {GOOD: '1', bad_key: '2'}")),
        case(
            "build-arg key 1ABC",
            image_s3("BuildArgs: {1ABC: x}"),
            ids::BUILD_ARG_NAME,
            at("BuildArgs.1ABC"),
        )
        .fixed(image_s3("BuildArgs: {ABC1: x}")),
        case(
            "build-arg key with shell text",
            image_s3("BuildArgs: {'$(id)': x}"),
            ids::BUILD_ARG_NAME,
            at("BuildArgs.$(id)"),
        ),
        case(
            "reserved build arg PATH",
            image_s3("BuildArgs: {PATH: /opt/bin}"),
            ids::BUILD_ARG_RESERVED,
            at("BuildArgs.PATH"),
        )
        .fixed(image_s3("BuildArgs: {APP_PATH: /opt/bin}")),
        case(
            "reserved build arg AWS_REGION",
            image_s3("BuildArgs: {STAGE: prod, AWS_REGION: eu-west-1}"),
            ids::BUILD_ARG_RESERVED,
            at("BuildArgs.AWS_REGION"),
        )
        .fixed(image_s3("BuildArgs: {STAGE: prod, APP_REGION: eu-west-1}")),
        case(
            "reserved build arg CIB_X",
            image_s3("BuildArgs: {CIB_X: y}"),
            ids::BUILD_ARG_RESERVED,
            at("BuildArgs.CIB_X"),
        )
        .fixed(image_s3("BuildArgs: {X_CIB: y}")),
        case(
            "reserved build arg in lower case",
            image_s3("BuildArgs: {path: x}"),
            ids::BUILD_ARG_RESERVED,
            at("BuildArgs.path"),
        ),
    ]
}

fn source_cases() -> Vec<Case> {
    vec![
        case(
            "Source with two forms",
            image("Source: {S3Bucket: b, S3Key: k, Dockerfile: 'FROM scratch'}"),
            ids::SOURCE_FORM,
            at("Source"),
        )
        .fixed(image("Source: {Dockerfile: 'FROM scratch'}")),
        case(
            "Source with Directory and Dockerfile",
            image("Source: {Directory: ./api, Dockerfile: 'FROM scratch'}"),
            ids::SOURCE_FORM,
            at("Source"),
        )
        .fixed(image("Source: {Dockerfile: 'FROM scratch'}")),
        case(
            "Source empty",
            image("Source: {}"),
            ids::SOURCE_FORM,
            at("Source"),
        )
        .fixed(image("Source: {S3Bucket: b, S3Key: k}")),
        case(
            "Source S3Bucket without S3Key",
            image("Source: {S3Bucket: b}"),
            ids::SOURCE_FORM,
            at("Source"),
        )
        .fixed(image("Source: {S3Bucket: b, S3Key: k}")),
        case(
            "Directory source with the macro",
            image("Source: {Directory: ./api}"),
            ids::DIRECTORY_SOURCE,
            at("Source.Directory"),
        )
        .options(caller(Caller::Macro))
        .text("cib package")
        .fixed(image("Source: {S3Bucket: b, S3Key: api.zip}")),
        case(
            "Directory source with the CLI's expand",
            image("Source: {Directory: ./api}"),
            ids::DIRECTORY_SOURCE,
            at("Source.Directory"),
        )
        .options(caller(Caller::Cli))
        .text("cib package")
        .fixed(image("Source: {S3Bucket: b, S3Key: api.zip}")),
    ]
}

const TARBALL: &str = "Source: {ImageTarball: {S3Bucket: artifacts, S3Key: web/abc.tar}}";

fn tarball_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (name, line, key) in [
        (
            "tarball with Dockerfile",
            "Dockerfile: docker/Prod",
            "Dockerfile",
        ),
        (
            "tarball with BuildArgs",
            "BuildArgs: {STAGE: prod}",
            "BuildArgs",
        ),
        (
            "tarball with ComputeType",
            "ComputeType: BUILD_GENERAL1_LARGE",
            "ComputeType",
        ),
        (
            "tarball with TimeoutInMinutes",
            "TimeoutInMinutes: 30",
            "TimeoutInMinutes",
        ),
        (
            "tarball with Compression",
            "Compression: zstd",
            "Compression",
        ),
    ] {
        cases.push(
            case(
                name,
                image(&format!("{TARBALL}\n{line}")),
                ids::TARBALL_BUILD_PROPERTY,
                at(key),
            )
            .text("ImageTarball")
            .fixed(image(TARBALL)),
        );
    }
    cases.push(
        case(
            "local tarball with the macro",
            image("Source: {ImageTarball: ./web.tar}"),
            ids::TARBALL_NOT_PACKAGED,
            at("Source.ImageTarball"),
        )
        .options(caller(Caller::Macro))
        .text("cib package")
        .fixed(image(TARBALL)),
    );
    cases.push(
        case(
            "tarball into a named repository",
            image(&format!("{TARBALL}\nRepository: {{RepositoryName: web}}")),
            ids::TARBALL_REPOSITORY,
            at("Repository.RepositoryName"),
        )
        .fixed(image(TARBALL)),
    );
    cases.push(
        case(
            "tarball into an existing repository",
            image(&format!(
                "{TARBALL}\nRepository: {{ExistingRepositoryName: web}}"
            )),
            ids::TARBALL_REPOSITORY,
            at("Repository.ExistingRepositoryName"),
        )
        .fixed(image(TARBALL)),
    );
    cases.push(
        case(
            "tarball together with an S3 context",
            image("Source: {ImageTarball: ./web.tar, S3Bucket: b, S3Key: k}"),
            ids::SOURCE_FORM,
            at("Source"),
        )
        .fixed(image(TARBALL)),
    );
    cases.push(
        case(
            "tarball S3 form without S3Key",
            image("Source: {ImageTarball: {S3Bucket: b}}"),
            ids::SCHEMA,
            at("Source.ImageTarball"),
        )
        .also(&[ids::SOURCE_FORM])
        .fixed(image(TARBALL)),
    );
    cases.push(
        case(
            "arm64 tarball in an x86_64 Lambda",
            with(
                image(&format!("{TARBALL}\nPlatform: linux/arm64")),
                &lambda(Some("x86_64")),
            ),
            ids::ARCHITECTURE_MISMATCH,
            props("Fn") + ".Architectures",
        )
        .fixed(with(image(TARBALL), &lambda(Some("x86_64")))),
    );
    cases
}

fn id_cases() -> Vec<Case> {
    vec![
        case(
            "collision with <Id>Repository",
            with(
                image_s3(""),
                "  ApiImageRepository:\n    Type: AWS::ECR::Repository\n",
            ),
            ids::ID_COLLISION,
            "Resources.ApiImageRepository".into(),
        )
        .fixed(with(
            image_s3(""),
            "  ApiRepository:\n    Type: AWS::ECR::Repository\n",
        )),
        case(
            "collision with ContainerImageBuildRole",
            with(
                image_s3(""),
                "  ContainerImageBuildRole:\n    Type: AWS::SNS::Topic\n",
            ),
            ids::ID_COLLISION,
            "Resources.ContainerImageBuildRole".into(),
        )
        .fixed(with(
            image_s3(""),
            "  BuildRole:\n    Type: AWS::SNS::Topic\n",
        )),
        case(
            "collision with the shared project",
            with(
                image_s3(""),
                "  ContainerImageBuildProjectAmd64:\n    Type: AWS::SNS::Topic\n",
            ),
            ids::ID_COLLISION,
            "Resources.ContainerImageBuildProjectAmd64".into(),
        )
        .fixed(with(
            image_s3("Platform: linux/arm64"),
            "  ContainerImageBuildProjectAmd64:\n    Type: AWS::SNS::Topic\n",
        )),
        case(
            "collision with the replication resource",
            with(
                image_s3("ReplicaRegions: [us-west-2]"),
                "  ContainerImageBuildReplication:\n    Type: AWS::SNS::Topic\n",
            ),
            ids::ID_COLLISION,
            "Resources.ContainerImageBuildReplication".into(),
        )
        .options(region("us-east-1"))
        .fixed(with(
            image_s3(""),
            "  ContainerImageBuildReplication:\n    Type: AWS::SNS::Topic\n",
        )),
        case(
            "collision with <Id>LogGroup",
            with(
                image_s3("BuildLogs: {RetentionInDays: 7}"),
                "  ApiImageLogGroup:\n    Type: AWS::Logs::LogGroup\n",
            ),
            ids::ID_COLLISION,
            "Resources.ApiImageLogGroup".into(),
        )
        .fixed(with(
            image_s3("BuildLogs: {RetentionInDays: 30}"),
            "  ApiImageLogGroup:\n    Type: AWS::Logs::LogGroup\n",
        )),
        case(
            "collision with the template's log group",
            with(
                image_s3(""),
                "  ContainerImageBuildLogGroup:\n    Type: AWS::Logs::LogGroup\n",
            ),
            ids::ID_COLLISION,
            "Resources.ContainerImageBuildLogGroup".into(),
        )
        .fixed(with(
            image_s3(""),
            "  BuildLogGroup:\n    Type: AWS::Logs::LogGroup\n",
        )),
    ]
}

fn resolution_cases() -> Vec<Case> {
    let params = "Parameters:\n  Arch: {Type: String, Default: linux/arm64}\n  Regions: {Type: CommaDelimitedList}\n";
    let with_params = |body: String| format!("{params}{body}");
    let mut given = Map::new();
    given.insert(
        "Regions".into(),
        Value::String("us-west-2, eu-west-1".into()),
    );
    let given = ExpandOptions {
        parameters: given,
        region: Some("us-east-1".into()),
        ..ExpandOptions::default()
    };
    vec![
        case(
            "Platform !GetAtt X.Y",
            with(
                image_s3("Platform: !GetAtt X.Y"),
                "  X:\n    Type: AWS::SNS::Topic\n",
            ),
            ids::UNRESOLVABLE,
            at("Platform"),
        )
        .text("Fn::GetAtt")
        .fixed(with_params(image_s3("Platform: !Ref Arch"))),
        case(
            "Platform !Ref to an undeclared parameter",
            image_s3("Platform: !Ref Nope"),
            ids::UNRESOLVABLE,
            at("Platform"),
        )
        .fixed(with_params(image_s3("Platform: !Ref Arch"))),
        case(
            "Platform !If",
            with_params(image_s3("Platform: !If [IsArm, linux/arm64, linux/amd64]")),
            ids::UNRESOLVABLE,
            at("Platform"),
        )
        .text("Fn::If"),
        case(
            "Platform !Ref to a parameter whose value is not a platform",
            "Parameters:\n  Arch: {Type: String, Default: linux/386}\n".to_owned()
                + &image_s3("Platform: !Ref Arch"),
            ids::SCHEMA,
            at("Platform"),
        ),
        case(
            "ReplicaRegions !Ref to a parameter without default or value",
            with_params(image_s3("ReplicaRegions: !Ref Regions")),
            ids::UNRESOLVABLE,
            at("ReplicaRegions"),
        )
        .options(region("us-east-1"))
        .fixed(
            "Parameters:\n  Regions: {Type: CommaDelimitedList, Default: 'us-west-2, eu-west-1'}\n"
                .to_owned()
                + &image_s3("ReplicaRegions: !Ref Regions"),
        ),
        case(
            "ReplicaRegions item !Ref to an undeclared parameter",
            image_s3("ReplicaRegions: [us-west-2, !Ref Nope]"),
            ids::UNRESOLVABLE,
            at("ReplicaRegions[1]"),
        )
        .options(region("us-east-1"))
        .fixed(
            "Parameters:\n  Other: {Type: String, Default: eu-west-1}\n".to_owned()
                + &image_s3("ReplicaRegions: [us-west-2, !Ref Other]"),
        ),
        case(
            "BuildArgs as a whole an intrinsic",
            image_s3("BuildArgs: !GetAtt X.Y"),
            ids::UNRESOLVABLE,
            at("BuildArgs"),
        ),
        case(
            "Source as a whole an intrinsic",
            image("Source: !If [C, {S3Bucket: a, S3Key: b}, {S3Bucket: c, S3Key: d}]"),
            ids::UNRESOLVABLE,
            at("Source"),
        ),
        case(
            "TimeoutInMinutes !Ref a non-numeric parameter",
            "Parameters:\n  T: {Type: String, Default: abc}\n".to_owned()
                + &image_s3("TimeoutInMinutes: !Ref T"),
            ids::SCHEMA,
            at("TimeoutInMinutes"),
        ),
    ]
    .into_iter()
    .chain(std::iter::once(
        case(
            "ReplicaRegions !Ref resolved from a given value to the stack region",
            with_params(image_s3("ReplicaRegions: !Ref Regions")),
            ids::REPLICA_IS_STACK_REGION,
            at("ReplicaRegions[1]"),
        )
        .options(ExpandOptions {
            region: Some("eu-west-1".into()),
            ..given
        }),
    ))
    .collect()
}

fn property_rule_cases() -> Vec<Case> {
    vec![
        case(
            "ImageTag + ImageTagPrefix",
            image_s3("ImageTag: v1\nImageTagPrefix: api-"),
            ids::TAG_AND_PREFIX,
            at("ImageTagPrefix"),
        )
        .fixed(image_s3("ImageTagPrefix: api-")),
        case(
            "TimeoutInMinutes too long for the custom-resource timeout",
            image_s3("TimeoutInMinutes: 56"),
            ids::TIMEOUT_TOO_LONG,
            at("TimeoutInMinutes"),
        )
        .text("at most 55")
        .fixed(image_s3("TimeoutInMinutes: 55")),
        case(
            "TimeoutInMinutes too long with replicas",
            image_s3("TimeoutInMinutes: 41\nReplicaRegions: [us-west-2]"),
            ids::TIMEOUT_TOO_LONG,
            at("TimeoutInMinutes"),
        )
        .options(region("us-east-1"))
        .text("at most 40")
        .fixed(image_s3(
            "TimeoutInMinutes: 40\nReplicaRegions: [us-west-2]",
        )),
        case(
            "LogGroupName with RetentionInDays",
            image_s3("BuildLogs: {LogGroupName: /cib/api, RetentionInDays: 14}"),
            ids::NAMED_LOG_GROUP_WITH_SETTINGS,
            at("BuildLogs.LogGroupName"),
        )
        .text("RetentionInDays")
        .fixed(image_s3("BuildLogs: {RetentionInDays: 14}")),
        case(
            "LogGroupName with KmsKeyId",
            image_s3("BuildLogs: {LogGroupName: /cib/api, KmsKeyId: !ImportValue LogKey}"),
            ids::NAMED_LOG_GROUP_WITH_SETTINGS,
            at("BuildLogs.LogGroupName"),
        )
        .text("KmsKeyId")
        .fixed(image_s3("BuildLogs: {KmsKeyId: !ImportValue LogKey}")),
        case(
            "a build arg over 4096 characters",
            image_s3(&format!("BuildArgs: {{APP_BLOB: '{}'}}", "x".repeat(4097))),
            ids::ENV_VALUE_TOO_LONG,
            at("BuildArgs.APP_BLOB"),
        )
        .text("4097 characters")
        .fixed(image_s3(&format!(
            "BuildArgs: {{APP_BLOB: '{}'}}",
            "x".repeat(4096)
        ))),
        case(
            "a build arg over 4096 characters, counted in characters",
            image_s3(&format!("BuildArgs: {{APP_BLOB: '{}'}}", "é".repeat(4097))),
            ids::ENV_VALUE_TOO_LONG,
            at("BuildArgs.APP_BLOB"),
        )
        .fixed(image_s3(&format!(
            "BuildArgs: {{APP_BLOB: '{}'}}",
            "é".repeat(4096)
        ))),
        case(
            "an inline Dockerfile over 4096 characters once gzip+base64-encoded",
            image(&format!(
                "Source: {{Dockerfile: 'FROM scratch\n\nLABEL noise={}'}}",
                noise(5000)
            )),
            ids::ENV_VALUE_TOO_LONG,
            at("Source.Dockerfile"),
        )
        .text("gzip+base64")
        .fixed(image(&format!(
            "Source: {{Dockerfile: 'FROM scratch\n\nLABEL noise={}'}}",
            noise(2000)
        ))),
        case(
            "a retained repository with a fixed name: warning",
            image_s3("Repository: {RepositoryName: api}"),
            ids::RETAINED_NAMED_REPOSITORY,
            at("Repository.RepositoryName"),
        )
        .text("ExistingRepositoryName")
        .fixed(image_s3("Repository: {ImageScanOnPush: true}")),
        case(
            "a vulnerability gate on a repository that does not scan on push: warning",
            image_s3("Repository: {ImageScanOnPush: false}\nScan: {FailOnSeverity: HIGH}"),
            ids::SCAN_WITHOUT_SCAN_ON_PUSH,
            at("Repository.ImageScanOnPush"),
        )
        .text("enhanced scanning")
        .fixed(image_s3("Scan: {FailOnSeverity: HIGH}")),
        case(
            "a vulnerability gate with a fixed tag",
            image_s3("ImageTag: stable\nScan: {FailOnSeverity: CRITICAL}"),
            ids::SCAN_WITH_FIXED_TAG,
            at("ImageTag"),
        )
        .text("ImageTagPrefix")
        .fixed(image_s3(
            "ImageTagPrefix: stable\nScan: {FailOnSeverity: CRITICAL}",
        )),
        case(
            "a multi-platform image in an existing repository",
            image_s3("Platform: [linux/amd64, linux/arm64]\nRepository: {ExistingRepositoryName: shared/api}"),
            ids::MULTI_PLATFORM_NAMED_REPOSITORY,
            at("Repository.ExistingRepositoryName"),
        )
        .text("drop Repository.ExistingRepositoryName")
        .fixed(image_s3("Platform: [linux/amd64, linux/arm64]")),
        case(
            "a multi-platform image with a fixed tag",
            image_s3("Platform: [linux/arm64, linux/amd64]\nImageTag: stable"),
            ids::MULTI_PLATFORM_FIXED_TAG,
            at("ImageTag"),
        )
        .text("ImageTagPrefix")
        .fixed(image_s3("Platform: [linux/arm64, linux/amd64]\nImageTagPrefix: stable-")),
        case(
            "a fixed tag with replica regions",
            image_s3("ImageTag: stable\nReplicaRegions: [us-west-2]"),
            ids::FIXED_TAG_WITH_REPLICAS,
            at("ImageTag"),
        )
        .text("drop ReplicaRegions")
        .fixed(image_s3("ImageTagPrefix: stable-\nReplicaRegions: [us-west-2]")),
        case(
            "a VPC build with replica regions",
            image_s3("ReplicaRegions: [us-west-2]\nVpcConfig: {VpcId: vpc-0123456789abcdef0, Subnets: [subnet-0123456789abcdef0], SecurityGroupIds: [sg-0123456789abcdef0]}"),
            ids::VPC_CROSS_REGION,
            at("VpcConfig"),
        )
        .text("NAT gateway")
        .fixed(image_s3("VpcConfig: {VpcId: vpc-0123456789abcdef0, Subnets: [subnet-0123456789abcdef0], SecurityGroupIds: [sg-0123456789abcdef0]}")),
        case(
            "an arm64 image where CodeBuild documents no ARM_CONTAINER",
            image_s3("Platform: linux/arm64"),
            ids::ENVIRONMENT_NOT_IN_REGION,
            at("Platform"),
        )
        .options(region("me-south-1"))
        .text("linux/amd64")
        .fixed(image_s3("Platform: linux/amd64")),
        case(
            "2XLARGE on x86_64 where CodeBuild does not document it",
            image_s3("Platform: linux/amd64\nComputeType: BUILD_GENERAL1_2XLARGE"),
            ids::ENVIRONMENT_NOT_IN_REGION,
            at("ComputeType"),
        )
        .options(region("eu-north-1"))
        .text("BUILD_GENERAL1_XLARGE")
        .fixed(image_s3("Platform: linux/amd64\nComputeType: BUILD_GENERAL1_XLARGE")),
        case(
            "a base image repository in another partition",
            image_s3("PullFromRepositories: ['arn:aws-cn:ecr:cn-north-1:111122223333:repository/base']"),
            ids::PULL_OTHER_PARTITION,
            format!("{}[0]", at("PullFromRepositories")),
        )
        .options(region("us-east-1"))
        .text("copy the base image")
        .fixed(image_s3("PullFromRepositories: ['arn:aws:ecr:eu-west-1:111122223333:repository/base']")),
        case(
            "a repository deleted with the stack but not emptied",
            format!(
                "Resources:\n  ApiImage:\n    Type: Custom::ContainerImageBuild\n    DeletionPolicy: Delete\n    Properties:\n      {SOURCE}\n"
            ),
            ids::DELETE_WITHOUT_EMPTY,
            "Resources.ApiImage.DeletionPolicy".into(),
        )
        .text("EmptyOnDelete: true")
        .fixed(format!(
            "Resources:\n  ApiImage:\n    Type: Custom::ContainerImageBuild\n    DeletionPolicy: Delete\n    Properties:\n      {SOURCE}\n      Repository: {{EmptyOnDelete: true}}\n"
        )),
        case(
            "a multi-platform image's index in a Lambda function",
            lambda_of("Platform: [linux/amd64, linux/arm64]", "[arm64]", "!GetAtt ApiImage.ImageUri"),
            ids::INDEX_IN_LAMBDA,
            "Resources.ApiFunction.Properties.Code.ImageUri".into(),
        )
        .text("!GetAtt ApiImage.ImageUri.arm64")
        .fixed(lambda_of("Platform: [linux/amd64, linux/arm64]", "[arm64]", "!GetAtt ApiImage.ImageUri.arm64")),
        case(
            "a multi-platform image's arm64 manifest in an x86_64 Lambda function",
            lambda_of("Platform: [linux/amd64, linux/arm64]", "[x86_64]", "!GetAtt ApiImage.ImageUri.arm64"),
            ids::PLATFORM_URI_MISMATCH,
            "Resources.ApiFunction.Properties.Architectures".into(),
        )
        .text("ImageUri.amd64")
        .fixed(lambda_of("Platform: [linux/amd64, linux/arm64]", "[x86_64]", "!GetAtt ApiImage.ImageUri.amd64")),
        case(
            "Platform list with the same platform twice",
            image_s3("Platform: [linux/arm64, linux/arm64]"),
            ids::SCHEMA,
            at("Platform"),
        )
        .fixed(image_s3("Platform: [linux/arm64]")),
    ]
}

fn replication_cases() -> Vec<Case> {
    let regions = aws_regions();
    let (first, second) = regions[..26].split_at(13);
    let twenty_six = images(&[
        ("ApiImage", &format!("{SOURCE}\n{}", region_list(first))),
        ("WebImage", &format!("{SOURCE}\n{}", region_list(second))),
    ]);
    let twenty_five = images(&[
        ("ApiImage", &format!("{SOURCE}\n{}", region_list(first))),
        (
            "WebImage",
            &format!("{SOURCE}\n{}", region_list(&second[..12])),
        ),
    ]);
    vec![
        case(
            "26 distinct destinations",
            twenty_six,
            ids::TOO_MANY_DESTINATIONS,
            "Resources.WebImage.Properties.ReplicaRegions[12]".into(),
        )
        .options(region("us-east-1"))
        .fixed(twenty_five),
        case(
            "26 regions in one image's list",
            image_s3(&region_list(&aws_regions()[..26])),
            ids::SCHEMA,
            at("ReplicaRegions"),
        )
        .options(region("us-east-1"))
        .fixed(image_s3(&region_list(&aws_regions()[..25]))),
        case(
            "11 destination sets",
            many_images(11, |i| region_list(&[aws_regions()[i - 1]])),
            ids::TOO_MANY_RULES,
            "Resources.Image011.Properties.ReplicaRegions".into(),
        )
        .options(region("us-east-1"))
        .fixed(many_images(11, |i| {
            region_list(&[aws_regions()[(i - 1) % 10]])
        })),
        case(
            "101 images to one destination set",
            many_images(101, |_| region_list(&["us-west-2", "eu-west-1"])),
            ids::TOO_MANY_FILTERS,
            "Resources.Image101.Properties.ReplicaRegions".into(),
        )
        .options(region("us-east-1"))
        .fixed(many_images(101, |i| {
            if i == 101 {
                region_list(&["eu-west-1"])
            } else {
                region_list(&["eu-west-1", "us-west-2"])
            }
        })),
        case(
            "cross-partition replica",
            image_s3("ReplicaRegions: [us-west-2, cn-north-1]"),
            ids::CROSS_PARTITION,
            at("ReplicaRegions[1]"),
        )
        .options(region("us-east-1"))
        .text("aws-cn")
        .fixed(image_s3("ReplicaRegions: [us-west-2]")),
        case(
            "aws-us-gov replica from a commercial stack",
            image_s3("ReplicaRegions: [us-gov-west-1]"),
            ids::CROSS_PARTITION,
            at("ReplicaRegions[0]"),
        )
        .options(region("us-east-2")),
        case(
            "commercial replica from a China stack",
            image_s3("ReplicaRegions: [cn-northwest-1, eu-west-1]"),
            ids::CROSS_PARTITION,
            at("ReplicaRegions[1]"),
        )
        .options(region("cn-north-1"))
        .fixed(image_s3("ReplicaRegions: [cn-northwest-1]")),
        case(
            "aws-eusc replica from an aws-iso-e stack",
            image_s3("ReplicaRegions: [eusc-de-east-1]"),
            ids::CROSS_PARTITION,
            at("ReplicaRegions[0]"),
        )
        .options(region("eu-isoe-west-1")),
        case(
            "replica = stack region",
            image_s3("ReplicaRegions: [us-west-2, eu-west-1]"),
            ids::REPLICA_IS_STACK_REGION,
            at("ReplicaRegions[1]"),
        )
        .options(region("eu-west-1"))
        .fixed(image_s3("ReplicaRegions: [us-west-2]")),
        case(
            "malformed region: upper case",
            image_s3("ReplicaRegions: [us-west-2, US-EAST-2]"),
            ids::MALFORMED_REGION,
            at("ReplicaRegions[1]"),
        )
        .options(region("us-east-1"))
        .fixed(image_s3("ReplicaRegions: [us-west-2, us-east-2]")),
        case(
            "malformed region: missing number",
            image_s3("ReplicaRegions: [us-west]"),
            ids::MALFORMED_REGION,
            at("ReplicaRegions[0]"),
        )
        .options(region("us-east-1")),
        case(
            "malformed region: empty",
            image_s3("ReplicaRegions: ['']"),
            ids::MALFORMED_REGION,
            at("ReplicaRegions[0]"),
        )
        .options(region("us-east-1")),
        case(
            "malformed region: unknown prefix",
            image_s3("ReplicaRegions: [xx-west-1]"),
            ids::MALFORMED_REGION,
            at("ReplicaRegions[0]"),
        )
        .options(region("us-east-1")),
        case(
            "malformed region: trailing space",
            image_s3("ReplicaRegions: ['us-west-2 ']"),
            ids::MALFORMED_REGION,
            at("ReplicaRegions[0]"),
        )
        .options(region("us-east-1")),
        case(
            "partition mismatch among replicas, stack region unknown",
            image_s3("ReplicaRegions: [us-west-2, cn-north-1]"),
            ids::CROSS_PARTITION,
            at("ReplicaRegions[1]"),
        )
        .text("the other replicas'")
        .fixed(image_s3("ReplicaRegions: [cn-northwest-1, cn-north-1]")),
        case(
            "stack region unknown: warning",
            image_s3("ReplicaRegions: [us-west-2, cn-north-1]"),
            ids::REGION_UNKNOWN,
            String::new(),
        )
        .also(&[ids::CROSS_PARTITION]),
        case(
            "stack region malformed: warning",
            image_s3("ReplicaRegions: [us-west-2]"),
            ids::REGION_UNKNOWN,
            String::new(),
        )
        .options(region("mars-1"))
        .text("mars-1"),
        case(
            "well-formed but unknown region: warning",
            image_s3("ReplicaRegions: [us-west-9]"),
            ids::UNKNOWN_REGION,
            at("ReplicaRegions[0]"),
        )
        .options(region("us-east-1")),
        case(
            "duplicate replica: warning",
            image_s3("ReplicaRegions: [us-west-2, eu-west-1, us-west-2]"),
            ids::DUPLICATE_REPLICA,
            at("ReplicaRegions[2]"),
        )
        .options(region("us-east-1")),
    ]
}

fn lambda_cases() -> Vec<Case> {
    let sam = |arch: &str| {
        format!(
            "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n      ImageUri: !Sub '${{ApiImage.ImageUri}}'\n{arch}"
        )
    };
    vec![
        case(
            "arm64 image into an x86_64 Lambda",
            with(image_s3("Platform: linux/arm64"), &lambda(Some("x86_64"))),
            ids::ARCHITECTURE_MISMATCH,
            "Resources.Fn.Properties.Architectures".into(),
        )
        .fixed(with(
            image_s3("Platform: linux/arm64"),
            &lambda(Some("arm64")),
        )),
        case(
            "arm64 image into a Lambda without Architectures (x86_64)",
            with(image_s3("Platform: linux/arm64"), &lambda(None)),
            ids::ARCHITECTURE_MISMATCH,
            "Resources.Fn.Properties.Architectures".into(),
        )
        .fixed(with(image_s3("Platform: linux/amd64"), &lambda(None))),
        case(
            "amd64 image into an arm64 Lambda",
            with(image_s3("Platform: linux/amd64"), &lambda(Some("arm64"))),
            ids::ARCHITECTURE_MISMATCH,
            "Resources.Fn.Properties.Architectures".into(),
        )
        .fixed(with(
            image_s3("Platform: linux/amd64"),
            &lambda(Some("x86_64")),
        )),
        case(
            "default platform (amd64) into an arm64 Lambda",
            with(image_s3(""), &lambda(Some("arm64"))),
            ids::ARCHITECTURE_MISMATCH,
            "Resources.Fn.Properties.Architectures".into(),
        )
        .fixed(with(image_s3(""), &lambda(Some("x86_64")))),
        case(
            "arm64 image into a SAM function by !Sub, no Architectures",
            with(image_s3("Platform: linux/arm64"), &sam("")),
            ids::ARCHITECTURE_MISMATCH,
            "Resources.Fn.Properties.Architectures".into(),
        )
        .fixed(with(
            image_s3("Platform: linux/arm64"),
            &sam("      Architectures: [arm64]\n"),
        )),
        case(
            "zstd into Lambda",
            with(image_s3("Compression: zstd"), &lambda(None)),
            ids::ZSTD_IN_LAMBDA,
            at("Compression"),
        )
        .fixed(with(image_s3("Compression: gzip"), &lambda(None))),
        case(
            "fixed tag consumed by Lambda: warning",
            with(image_s3("ImageTag: latest"), &lambda(None)),
            ids::MUTABLE_TAG_IN_LAMBDA,
            at("ImageTag"),
        )
        .text("Resources.Fn.Properties.Code.ImageUri"),
    ]
}

fn limit_cases() -> Vec<Case> {
    let inline = "Source: {Dockerfile: 'FROM scratch'}";
    let list = |count: usize| -> String {
        let mut out = String::from("Resources:\n");
        for i in 0..count {
            out.push_str(&format!(
                "  Image{i:03}: {{Type: Custom::ContainerImageBuild, Properties: {{{inline}}}}}\n"
            ));
        }
        out
    };
    let big = |bytes: usize| {
        with(
            image(inline),
            &format!(
                "  Notes:\n    Type: AWS::SNS::Topic\n    Metadata: {{Text: {}}}\n",
                "x".repeat(bytes)
            ),
        )
    };
    vec![
        case(
            "over 500 resources after expansion (250 images)",
            list(250),
            ids::TOO_MANY_RESOURCES,
            "Resources".into(),
        )
        .text("500")
        .also(&[ids::TEMPLATE_TOO_LARGE])
        .fixed(list(200)),
        case(
            "over 1 MB after expansion",
            big(1_100_000),
            ids::TEMPLATE_TOO_LARGE,
            String::new(),
        )
        .fixed(big(900_000)),
        case(
            "over 51,200 bytes: warning",
            big(60_000),
            ids::TEMPLATE_NEEDS_S3,
            String::new(),
        ),
        case(
            "build role policy over IAM's 10,240 characters in the worst case",
            secrets_from_parameters(""),
            ids::ROLE_POLICY_TOO_LARGE,
            "Resources.ContainerImageBuildRole.Properties.Policies".into(),
        )
        .text("10240")
        .fixed(secrets_from_parameters(", MaxLength: 200")),
    ]
}

/// One image with 20 build secrets, each a parameter declared with `declaration` added.
fn secrets_from_parameters(declaration: &str) -> String {
    let mut out = String::from("Parameters:\n");
    for i in 0..20 {
        out.push_str(&format!("  S{i}: {{Type: String{declaration}}}\n"));
    }
    let secrets: String = (0..20).map(|i| format!("  s{i}: !Ref S{i}\n")).collect();
    out + &image_s3(&format!("BuildSecrets:\n{secrets}"))
}

fn all_cases() -> Vec<Case> {
    [
        parse_cases(),
        structure_cases(),
        schema_cases(),
        build_arg_cases(),
        source_cases(),
        tarball_cases(),
        id_cases(),
        resolution_cases(),
        property_rule_cases(),
        replication_cases(),
        lambda_cases(),
        limit_cases(),
    ]
    .concat()
}

// ---------------------------------------------------------------------------------------------
// Running

fn severity_of(id: &str) -> Option<Severity> {
    CATALOG.iter().find(|c| c.id == id).map(|c| c.severity)
}

fn show(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("    {f}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn expand_bytes(bytes: &[u8], options: &ExpandOptions) -> Result<Outcome, ParseError> {
    let (value, _) = template::parse(bytes)?;
    Ok(cib_engine::expand(&value, options))
}

/// Runs one case; returns the problems found (empty: the case passes).
fn run(case: &Case) -> Vec<String> {
    let mut problems = Vec::new();
    match &case.expect {
        Expect::Parse { line, message } => match template::parse(case.input.bytes()) {
            Ok(value) => problems.push(format!("parsed, expected a ParseError: {:?}", value.1)),
            Err(error) => {
                if error.line < 1 || error.line != *line {
                    problems.push(format!(
                        "ParseError at line {}, expected line {line}: {error}",
                        error.line
                    ));
                }
                if !error.message.contains(message) {
                    problems.push(format!(
                        "ParseError message {:?} lacks {message:?}",
                        error.message
                    ));
                }
            }
        },
        Expect::Finding { id, path, text } => {
            match expand_bytes(case.input.bytes(), &case.options) {
                Err(error) => problems.push(format!("did not parse: {error}")),
                Ok(outcome) => {
                    let hit = outcome
                        .findings
                        .iter()
                        .find(|f| f.id == *id && f.path == *path);
                    match hit {
                        None => problems.push(format!(
                            "no {id} at {path:?}; findings:\n{}",
                            show(&outcome.findings)
                        )),
                        Some(finding) => {
                            if Some(finding.severity) != severity_of(id) {
                                problems.push(format!(
                                    "{id} has severity {:?}, the catalog says otherwise",
                                    finding.severity
                                ));
                            }
                            if !text.is_empty()
                                && !finding.message.contains(text)
                                && !finding.fix.contains(text)
                            {
                                problems.push(format!("{id} does not mention {text:?}: {finding}"));
                            }
                            if finding.message.is_empty() || finding.fix.is_empty() {
                                problems.push(format!("{id} lacks a message or a fix: {finding}"));
                            }
                        }
                    }
                    let stray: Vec<Finding> = outcome
                        .findings
                        .iter()
                        .filter(|f| f.is_error() && f.id != *id && !case.also.contains(&f.id))
                        .cloned()
                        .collect();
                    if !stray.is_empty() {
                        problems.push(format!("unexpected errors:\n{}", show(&stray)));
                    }
                    if outcome.has_errors() != outcome.template.is_none() {
                        problems.push(format!(
                            "template is {} with errors = {}",
                            if outcome.template.is_some() {
                                "Some"
                            } else {
                                "None"
                            },
                            outcome.has_errors()
                        ));
                    }
                    if severity_of(id) == Some(Severity::Error) && outcome.template.is_some() {
                        problems.push("an error case produced a template".into());
                    }
                }
            }
        }
    }
    if let Some(fixed) = &case.fixed {
        match expand_bytes(fixed.bytes(), &case.options) {
            Err(error) => problems.push(format!("fixed template did not parse: {error}")),
            Ok(outcome) => {
                let errors: Vec<Finding> = outcome
                    .findings
                    .iter()
                    .filter(|f| f.is_error())
                    .cloned()
                    .collect();
                if !errors.is_empty() || outcome.template.is_none() {
                    problems.push(format!("fixed template has errors:\n{}", show(&errors)));
                }
                if let Expect::Finding { id, .. } = &case.expect
                    && outcome.findings.iter().any(|f| f.id == *id)
                {
                    problems.push(format!("fixed template still reports {id}"));
                }
            }
        }
    }
    problems
}

#[test]
fn every_bad_input_is_reported_at_its_path_without_panicking() {
    let cases = all_cases();
    let mut failures = Vec::new();
    for case in &cases {
        match catch_unwind(AssertUnwindSafe(|| run(case))) {
            Ok(problems) if problems.is_empty() => {}
            Ok(problems) => failures.push(format!("{}:\n  {}", case.name, problems.join("\n  "))),
            Err(_) => failures.push(format!("{}: PANICKED", case.name)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn there_are_enough_cases_and_names_are_unique() {
    let cases = all_cases();
    assert!(cases.len() >= 45, "only {} cases", cases.len());
    let mut names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "duplicate case names");
    let controls = cases.iter().filter(|c| c.fixed.is_some()).count();
    assert!(controls >= 45, "only {controls} positive controls");
}

#[test]
fn every_check_in_the_catalog_has_a_bad_input_case() {
    let cases = all_cases();
    let mut missing = Vec::new();
    for info in CATALOG {
        let covered = cases.iter().any(|c| match &c.expect {
            Expect::Parse { .. } => info.id == ids::PARSE,
            Expect::Finding { id, .. } => *id == info.id,
        });
        if !covered {
            missing.push(info.id);
        }
    }
    assert!(missing.is_empty(), "no bad-input case for {missing:?}");
}
