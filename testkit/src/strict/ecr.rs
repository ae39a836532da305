//! ECR limits: image tags, repository tags and the registry's replication configuration.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Caller, Violation, array, aws_len, string};

/// ECR's `X-Amz-Target` prefix (API version 2015-09-21).
pub const TARGET_PREFIX: &str = "AmazonEC2ContainerRegistry_V20150921";

/// Longest image tag. The ECR model allows 300 characters (shape `ImageTag`), but a tag
/// must also be one Docker and every OCI client can push and pull: `[a-zA-Z0-9_]` then up
/// to 127 of `[a-zA-Z0-9._-]` (OCI Distribution Spec, "tag" grammar; Docker reference,
/// `docker image tag`: "may contain a maximum of 128 characters").
pub const IMAGE_TAG_MAX: usize = 128;

/// Longest repository tag key and value (ECR API reference, Tag and TagResource: "Tag keys
/// can have a maximum character length of 128 characters, and tag values can have a
/// maximum length of 256 characters").
pub const TAG_KEY_MAX: usize = 128;
/// See [`TAG_KEY_MAX`].
pub const TAG_VALUE_MAX: usize = 256;
/// Most tags on one repository ("Maximum number of tags per resource – 50", AWS tagging
/// restrictions; ECR's `TooManyTagsException`: "The maximum number of tags that can be
/// applied to a repository is 50").
pub const TAGS_PER_RESOURCE_MAX: usize = 50;

/// Most rules in one replication configuration (ECR API reference,
/// ReplicationConfiguration: `rules`, "Maximum number of 10 items").
pub const REPLICATION_RULES_MAX: usize = 10;
/// Most distinct destinations across all rules (ECR User Guide, private image
/// replication: "a maximum of 25 unique destinations across all rules").
pub const REPLICATION_DESTINATIONS_MAX: usize = 25;
/// Most repository filters in one rule (ECR API reference, ReplicationRule:
/// `repositoryFilters`, "Maximum number of 100 items").
pub const REPLICATION_FILTERS_MAX: usize = 100;
/// Length range of a repository filter (shape `RepositoryFilterValue`, min 2 max 256, in
/// the service model, with the pattern [`filter_pattern_ok`] implements).
pub const REPLICATION_FILTER_LEN: (usize, usize) = (2, 256);

/// Most image ids in one BatchDeleteImage (ECR API reference, BatchDeleteImage: `imageIds`,
/// "Array Members: Minimum number of 1 item. Maximum number of 100 items").
pub const BATCH_DELETE_IMAGE_IDS_MAX: usize = 100;

/// Range of DescribeImageScanFindings' `maxResults` (ECR API reference,
/// DescribeImageScanFindings: "This value can be between 1 and 1000"; without it a page
/// holds up to 100 findings and a `nextToken`).
pub const SCAN_FINDINGS_MAX_RESULTS: (i64, i64) = (1, 1000);

/// DescribeImageScanFindings: `imageId` is required (with a tag or a digest) and
/// `maxResults`, when given, is within [`SCAN_FINDINGS_MAX_RESULTS`].
fn scan_findings(body: &Value) -> Result<(), Violation> {
    let id = body.get("imageId");
    let named = id
        .is_some_and(|id| string(id, "imageTag").is_some() || string(id, "imageDigest").is_some());
    if !named {
        return Err(Violation::new(
            "InvalidParameterException",
            "imageId is required, with an imageTag or an imageDigest",
        ));
    }
    if let Some(tag) = id.and_then(|id| string(id, "imageTag")) {
        image_tag(tag, "imageId.imageTag")?;
    }
    if let Some(max) = body.get("maxResults").and_then(Value::as_i64) {
        let (low, high) = SCAN_FINDINGS_MAX_RESULTS;
        if !(low..=high).contains(&max) {
            return Err(Violation::new(
                "InvalidParameterException",
                format!(
                    "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value between {low} and {high}' ({max} given)"
                ),
            ));
        }
    }
    Ok(())
}

/// Length range of `PutImage`'s `imageManifest` (ECR API reference, PutImage:
/// "imageManifest ... Length Constraints: Minimum length of 1. Maximum length of 4194304").
/// moto stores a manifest of any length.
pub const IMAGE_MANIFEST_LEN: (usize, usize) = (1, 4_194_304);

fn manifest_length(manifest: &str) -> Result<(), Violation> {
    let len = aws_len(manifest);
    let (min, max) = IMAGE_MANIFEST_LEN;
    if (min..=max).contains(&len) {
        return Ok(());
    }
    Err(Violation::new(
        "InvalidParameterException",
        format!(
            "1 validation error detected: Value at 'imageManifest' failed to satisfy constraint: \
             Member must have length between {min} and {max} (it has {len})"
        ),
    ))
}

/// Checks one ECR operation.
pub fn check(operation: &str, body: &Value, caller: &Caller) -> Result<(), Violation> {
    match operation {
        "PutImage" => {
            if let Some(tag) = string(body, "imageTag") {
                image_tag(tag, "imageTag")?;
            }
            manifest_length(string(body, "imageManifest").unwrap_or_default())
        }
        "BatchGetImage" | "DescribeImages" | "BatchDeleteImage" => {
            let ids = array(body, "imageIds");
            if operation == "BatchDeleteImage"
                && !(1..=BATCH_DELETE_IMAGE_IDS_MAX).contains(&ids.len())
            {
                return Err(Violation::new(
                    "InvalidParameterException",
                    format!(
                        "Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member \
                         must have length between 1 and {BATCH_DELETE_IMAGE_IDS_MAX}' ({} given)",
                        ids.len()
                    ),
                ));
            }
            for (i, id) in ids.iter().enumerate() {
                if let Some(tag) = string(id, "imageTag") {
                    image_tag(tag, &format!("imageIds.{}.member.imageTag", i + 1))?;
                }
            }
            Ok(())
        }
        "DescribeImageScanFindings" => scan_findings(body),
        "TagResource" => tags(array(body, "tags")),
        "PutReplicationConfiguration" => replication(
            body.get("replicationConfiguration").unwrap_or(&Value::Null),
            caller,
        ),
        _ => Ok(()),
    }
}

/// ECR's answer to `PutImage` of a tag that an `IMMUTABLE` repository already holds: always
/// `ImageTagAlreadyExistsException`, even when the tag already names the very manifest
/// being put (ECR API reference, PutImage, Errors: "ImageTagAlreadyExistsException: The
/// specified image is tagged with a tag that already exists. The repository is configured
/// for tag immutability."; the same digest answers it too: aws/containers-roadmap#2179).
/// moto answers `ImageAlreadyExistsException` instead, which hid the difference.
pub fn immutable_tag_taken(tag: &str, repository: &str, held: &str) -> Violation {
    Violation::new(
        "ImageTagAlreadyExistsException",
        format!(
            "The image tag '{tag}' already exists in the '{repository}' repository and cannot \
             be overwritten because the repository is immutable. (it names {held})"
        ),
    )
}

/// Whether `tag` is a valid image tag: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
pub fn image_tag_ok(tag: &str) -> bool {
    let mut chars = tag.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    first_ok
        && tag.len() <= IMAGE_TAG_MAX
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn image_tag(tag: &str, path: &str) -> Result<(), Violation> {
    if image_tag_ok(tag) {
        return Ok(());
    }
    Err(Violation::new(
        "InvalidParameterException",
        format!(
            "Invalid parameter at '{path}' failed to satisfy constraint: 'Tag `{tag}` \
             ({} characters) must match [a-zA-Z0-9_][a-zA-Z0-9._-]{{0,127}}'",
            tag.len()
        ),
    ))
}

/// Whether a tag key or value uses only the characters AWS tags allow: letters, numbers
/// and spaces representable in UTF-8, and `+ - = . _ : / @` (AWS tagging restrictions).
pub fn tag_text_ok(text: &str) -> bool {
    text.chars().all(|c| {
        c.is_alphanumeric()
            || c.is_whitespace()
            || matches!(c, '+' | '-' | '=' | '.' | '_' | ':' | '/' | '@')
    })
}

fn tags(tags: &[Value]) -> Result<(), Violation> {
    let invalid = |message: String| Err(Violation::new("InvalidTagParameterException", message));
    for tag in tags {
        let key = string(tag, "Key").unwrap_or_default();
        let value = string(tag, "Value").unwrap_or_default();
        if key.is_empty() || aws_len(key) > TAG_KEY_MAX {
            return invalid(format!(
                "Tag key `{key}` is {} characters; tag keys can have a maximum character \
                 length of {TAG_KEY_MAX} characters (and at least 1)",
                aws_len(key)
            ));
        }
        if aws_len(value) > TAG_VALUE_MAX {
            return invalid(format!(
                "Tag value of `{key}` is {} characters; tag values can have a maximum \
                 length of {TAG_VALUE_MAX} characters",
                aws_len(value)
            ));
        }
        if !tag_text_ok(key) || !tag_text_ok(value) {
            return invalid(format!(
                "Tag `{key}` has a character tags do not allow (letters, numbers, spaces \
                 and + - = . _ : / @)"
            ));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return invalid(format!("Tag key `{key}` uses the reserved prefix aws:"));
        }
    }
    let keys: BTreeSet<&str> = tags.iter().filter_map(|t| string(t, "Key")).collect();
    too_many_tags(keys.len())
}

/// Refuses a repository that would carry more than [`TAGS_PER_RESOURCE_MAX`] tags.
pub fn too_many_tags(count: usize) -> Result<(), Violation> {
    if count > TAGS_PER_RESOURCE_MAX {
        return Err(Violation::new(
            "TooManyTagsException",
            format!(
                "The list of tags on the repository is over the limit: {count} tags; the \
                 maximum number of tags that can be applied to a repository is \
                 {TAGS_PER_RESOURCE_MAX}"
            ),
        ));
    }
    Ok(())
}

/// Whether `filter` matches `RepositoryFilterValue`'s pattern
/// `^(?:[a-z0-9]+(?:[._-][a-z0-9]*)*/)*[a-z0-9]*(?:[._-][a-z0-9]*)*$`: lower-case letters,
/// digits and `._-/`, every `/`-terminated segment starting with a letter or digit.
pub fn filter_pattern_ok(filter: &str) -> bool {
    let allowed =
        |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-');
    let segments: Vec<&str> = filter.split('/').collect();
    let Some((last, leading)) = segments.split_last() else {
        return false;
    };
    leading.iter().all(|s| {
        s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && s.chars().all(allowed)
    }) && last.chars().all(allowed)
}

fn replication(config: &Value, caller: &Caller) -> Result<(), Violation> {
    let invalid = |exception, message: String| Err(Violation::new(exception, message));
    let rules = array(config, "rules");
    if rules.len() > REPLICATION_RULES_MAX {
        return invalid(
            "ValidationException",
            format!(
                "1 validation error detected: Value at 'replicationConfiguration.rules' failed \
                 to satisfy constraint: Member must have length less than or equal to \
                 {REPLICATION_RULES_MAX} (got {})",
                rules.len()
            ),
        );
    }
    let mut destinations = BTreeSet::new();
    for (i, rule) in rules.iter().enumerate() {
        let at = format!("replicationConfiguration.rules.{}.member", i + 1);
        for destination in array(rule, "destinations") {
            let region = string(destination, "region").unwrap_or_default();
            let registry = string(destination, "registryId").unwrap_or_default();
            if region == caller.region && registry == caller.account {
                return invalid(
                    "InvalidParameterException",
                    format!(
                        "Invalid parameter at '{at}.destinations': the destination {region} / \
                         {registry} is the source registry itself"
                    ),
                );
            }
            destinations.insert((region.to_string(), registry.to_string()));
        }
        let filters = array(rule, "repositoryFilters");
        if filters.len() > REPLICATION_FILTERS_MAX {
            return invalid(
                "ValidationException",
                format!(
                    "1 validation error detected: Value at '{at}.repositoryFilters' failed to \
                     satisfy constraint: Member must have length less than or equal to \
                     {REPLICATION_FILTERS_MAX} (got {})",
                    filters.len()
                ),
            );
        }
        for (j, filter) in filters.iter().enumerate() {
            let value = string(filter, "filter").unwrap_or_default();
            let path = format!("{at}.repositoryFilters.{}.member.filter", j + 1);
            let (min, max) = REPLICATION_FILTER_LEN;
            if value.len() < min || value.len() > max || !filter_pattern_ok(value) {
                return invalid(
                    "ValidationException",
                    format!(
                        "1 validation error detected: Value '{value}' at '{path}' failed to \
                         satisfy constraint: Member must have length between {min} and {max} \
                         and match ^(?:[a-z0-9]+(?:[._-][a-z0-9]*)*/)*[a-z0-9]*(?:[._-][a-z0-9]*)*$"
                    ),
                );
            }
            if string(filter, "filterType") != Some("PREFIX_MATCH") {
                return invalid(
                    "ValidationException",
                    format!(
                        "Value at '{at}.repositoryFilters.{}.member.filterType' must be PREFIX_MATCH",
                        j + 1
                    ),
                );
            }
        }
    }
    if destinations.len() > REPLICATION_DESTINATIONS_MAX {
        return invalid(
            "InvalidParameterException",
            format!(
                "The replication configuration has {} unique destinations across its rules; \
                 the maximum is {REPLICATION_DESTINATIONS_MAX}",
                destinations.len()
            ),
        );
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

    fn run(op: &str, body: Value) -> Result<(), Violation> {
        check(op, &body, &caller())
    }

    #[test]
    fn image_tags_over_128_characters_or_with_other_characters_are_refused() {
        let at = format!("a{}", "b".repeat(IMAGE_TAG_MAX - 1));
        assert_eq!(
            run("PutImage", json!({"imageTag": at, "imageManifest": "{}"})),
            Ok(())
        );
        let over = "a".repeat(IMAGE_TAG_MAX + 1);
        for bad in [
            over.as_str(),
            "-lead",
            ".lead",
            "has space",
            "colon:x",
            "ümlaut",
            "",
        ] {
            let v = run("PutImage", json!({"imageTag": bad})).expect_err(bad);
            assert_eq!(v.exception, "InvalidParameterException");
        }
        for op in ["BatchGetImage", "DescribeImages"] {
            assert_eq!(
                run(op, json!({"imageIds": [{"imageTag": "v1.2_3-x"}]})),
                Ok(())
            );
            let v = run(
                op,
                json!({"imageIds": [{"imageDigest": "sha256:0"}, {"imageTag": over}]}),
            )
            .expect_err("refused");
            assert!(
                v.message.contains("imageIds.2.member.imageTag"),
                "{}",
                v.message
            );
        }
    }

    #[test]
    fn repository_tags_are_held_to_key_value_and_count_limits() {
        let ok = json!({"tags": [{"Key": "k".repeat(TAG_KEY_MAX), "Value": "v".repeat(TAG_VALUE_MAX)},
                                 {"Key": "a b+-=._:/@", "Value": ""}]});
        assert_eq!(run("TagResource", ok), Ok(()));
        for bad in [
            json!({"Key": "k".repeat(TAG_KEY_MAX + 1), "Value": "v"}),
            json!({"Key": "k", "Value": "v".repeat(TAG_VALUE_MAX + 1)}),
            json!({"Key": "", "Value": "v"}),
            json!({"Key": "k", "Value": "https://x?y=1&z"}),
            json!({"Key": "aws:cloudformation:stack-id", "Value": "v"}),
        ] {
            let v = run("TagResource", json!({"tags": [bad]})).expect_err("refused");
            assert_eq!(v.exception, "InvalidTagParameterException");
        }
        let fifty: Vec<Value> = (0..50)
            .map(|i| json!({"Key": format!("k{i}"), "Value": "v"}))
            .collect();
        assert_eq!(run("TagResource", json!({"tags": fifty})), Ok(()));
        let fifty_one: Vec<Value> = (0..51)
            .map(|i| json!({"Key": format!("k{i}"), "Value": "v"}))
            .collect();
        let v = run("TagResource", json!({"tags": fifty_one})).expect_err("refused");
        assert_eq!(v.exception, "TooManyTagsException");
    }

    fn rule(regions: &[&str], filters: &[&str]) -> Value {
        json!({
            "destinations": regions.iter().map(|r| json!({"region": r, "registryId": "123456789012"})).collect::<Vec<_>>(),
            "repositoryFilters": filters.iter().map(|f| json!({"filter": f, "filterType": "PREFIX_MATCH"})).collect::<Vec<_>>(),
        })
    }

    fn put(rules: Vec<Value>) -> Result<(), Violation> {
        run(
            "PutReplicationConfiguration",
            json!({"replicationConfiguration": {"rules": rules}}),
        )
    }

    #[test]
    fn replication_rules_destinations_and_filters_are_limited() {
        let ten: Vec<Value> = (0..10)
            .map(|i| rule(&["eu-west-1"], &[&format!("r{i}")]))
            .collect();
        assert_eq!(put(ten.clone()), Ok(()));
        let mut eleven = ten;
        eleven.push(rule(&["eu-west-1"], &["r10"]));
        assert_eq!(
            put(eleven).expect_err("11 rules").exception,
            "ValidationException"
        );

        let regions: Vec<String> = (0..26).map(|i| format!("xx-test-{i}")).collect();
        let refs: Vec<&str> = regions.iter().map(String::as_str).collect();
        assert_eq!(
            put(vec![
                rule(&refs[..13], &["aa"]),
                rule(&refs[13..25], &["bb"])
            ]),
            Ok(())
        );
        let v = put(vec![rule(&refs[..13], &["aa"]), rule(&refs[13..], &["bb"])]).expect_err("26");
        assert_eq!(v.exception, "InvalidParameterException");
        assert!(
            v.message.contains("26 unique destinations"),
            "{}",
            v.message
        );

        let names: Vec<String> = (0..101).map(|i| format!("repo{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_eq!(put(vec![rule(&["eu-west-1"], &names[..100])]), Ok(()));
        let v = put(vec![rule(&["eu-west-1"], &names)]).expect_err("101 filters");
        assert_eq!(v.exception, "ValidationException");
    }

    #[test]
    fn filters_follow_the_pattern_and_destinations_are_not_the_source() {
        for good in ["cib/", "cib/api-", "ab", "a/b.c_d-e", "x-"] {
            assert_eq!(put(vec![rule(&["eu-west-1"], &[good])]), Ok(()), "{good}");
        }
        for bad in ["a", "Upper", "cib//x", "-x/y", "sp ace", &"a".repeat(257)] {
            let v = put(vec![rule(&["eu-west-1"], &[bad])]).expect_err(bad);
            assert_eq!(v.exception, "ValidationException");
        }
        let v = put(vec![rule(&["us-east-1"], &["cib/"])]).expect_err("source");
        assert_eq!(v.exception, "InvalidParameterException");
        assert!(v.message.contains("source registry"), "{}", v.message);
    }

    #[test]
    fn a_manifest_over_4_mib_or_empty_is_refused() {
        let max = IMAGE_MANIFEST_LEN.1;
        let ok = "x".repeat(max);
        assert_eq!(run("PutImage", json!({"imageManifest": ok})), Ok(()));
        for bad in ["x".repeat(max + 1), String::new()] {
            let v = run("PutImage", json!({"imageManifest": bad})).expect_err("refused");
            assert_eq!(v.exception, "InvalidParameterException");
            assert!(v.message.contains("imageManifest"), "{}", v.message);
        }
    }
}
