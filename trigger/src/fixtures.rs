//! A valid trigger property map, for tests here and in the crates that use this one.

use serde_json::{Map, Value, json};

/// A valid property map (an arm64 image from an S3 context, one replica region).
pub fn sample() -> Map<String, Value> {
    let Value::Object(m) = json!({
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:ContainerImageBuild-Provider",
        "ContractVersion": "2",
        "ProjectName": "proj",
        "RepositoryName": "api",
        "RepositoryUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/api",
        "RepositoryArn": "arn:aws:ecr:us-east-1:123456789012:repository/api",
        "Source": {"S3Bucket": "b", "S3Key": "k.zip"},
        "Dockerfile": "Dockerfile",
        "BuildArgs": {"STAGE": "prod", "API_URL": "https://x"},
        "Platform": "linux/arm64",
        "Compression": "gzip",
        "CacheDisabled": "false",
        "ReplicaRegions": ["us-west-2"],
        "BuildSpec": "version: 0.2",
        "TimeoutInMinutes": "30"
    }) else {
        unreachable!()
    };
    m
}

/// A valid tarball trigger: an image tarball in S3, no project, no buildspec.
pub fn tarball_sample() -> Map<String, Value> {
    let Value::Object(m) = json!({
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:ContainerImageBuild-Provider",
        "ContractVersion": "3",
        "RepositoryName": "cib/web-1111",
        "RepositoryUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/cib/web-1111",
        "RepositoryArn": "arn:aws:ecr:us-east-1:123456789012:repository/cib/web-1111",
        "Source": {"ImageTarball": {"S3Bucket": "artifacts", "S3Key": "tarballs/abc.tar"}},
        "ReplicaRegions": []
    }) else {
        unreachable!()
    };
    m
}
