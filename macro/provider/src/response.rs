//! The custom-resource response body, never larger than CloudFormation's 4096-byte limit.
//!
//! The JSON is always valid: when the body would be too large the `Reason` is shortened
//! by cutting out its middle (on character boundaries, with a marker), so its start (what
//! failed) and its end (the build's log link) both survive; when even an empty reason leaves
//! it too large (too much `Data`), the answer becomes FAILED with a short reason saying so.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::event::CfnRequest;
use crate::properties::TriggerProperties;

/// CloudFormation's limit on the whole response body, in bytes.
pub const MAX_RESPONSE_BYTES: usize = 4096;

/// Put where the middle of a reason that had to be shortened was cut out.
pub const TRUNCATED: &str = " [truncated] ";

/// SUCCESS or FAILED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// The resource reached the requested state.
    Success,
    /// It did not; `Reason` says why.
    Failed,
}

/// One answer to one CloudFormation request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnResponse {
    /// SUCCESS or FAILED.
    pub status: Status,
    /// Why (required for FAILED; shown in the stack events).
    pub reason: String,
    /// The stable physical id of the resource.
    pub physical_resource_id: String,
    /// Copied from the request.
    pub stack_id: String,
    /// Copied from the request.
    pub request_id: String,
    /// Copied from the request.
    pub logical_resource_id: String,
    /// Attributes readable with `Fn::GetAtt`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, String>,
}

impl CfnResponse {
    /// The body to PUT, at most [`MAX_RESPONSE_BYTES`] bytes, always valid JSON.
    pub fn to_body(&self) -> Vec<u8> {
        let full = serialize(self);
        if full.len() <= MAX_RESPONSE_BYTES {
            return full;
        }
        let mut shortened = self.clone();
        shortened.reason.clear();
        let empty = serialize(&shortened);
        if empty.len() + TRUNCATED.len() > MAX_RESPONSE_BYTES {
            // The data alone is too large: CloudFormation would refuse the answer, so say so.
            let failed = CfnResponse {
                status: Status::Failed,
                reason: format!(
                    "the response with its attributes would be {} bytes, over CloudFormation's \
                     {MAX_RESPONSE_BYTES}-byte limit (too many replica regions or a very long \
                     repository name)",
                    full.len()
                ),
                data: BTreeMap::new(),
                ..self.clone()
            };
            return serialize(&failed);
        }
        // Binary search on the number of reason characters kept: escaping makes the byte
        // size of a shortened reason hard to predict, so measure it.
        let chars: Vec<char> = self.reason.chars().collect();
        let (mut lo, mut hi) = (0usize, chars.len());
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            shortened.reason = cut_middle(&chars, mid);
            if serialize(&shortened).len() <= MAX_RESPONSE_BYTES {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        shortened.reason = cut_middle(&chars, lo);
        serialize(&shortened)
    }
}

/// `chars` shortened to `keep` characters plus the marker: the first half and the last half
/// of what is kept, with [`TRUNCATED`] between them.
fn cut_middle(chars: &[char], keep: usize) -> String {
    let keep = keep.min(chars.len());
    let head = keep / 2;
    let tail = keep - head;
    let mut out: String = chars[..head].iter().collect();
    out.push_str(TRUNCATED);
    out.extend(&chars[chars.len() - tail..]);
    out
}

fn serialize(r: &CfnResponse) -> Vec<u8> {
    // Serializing plain strings and maps cannot fail; fall back to a fixed valid body anyway.
    serde_json::to_vec(r)
        .unwrap_or_else(|_| br#"{"Status":"FAILED","Reason":"internal error"}"#.to_vec())
}

/// The answer to `request` for resource `physical_id`, without attributes.
pub fn answer_for(
    request: &CfnRequest,
    physical_id: &str,
    status: Status,
    reason: String,
) -> CfnResponse {
    CfnResponse {
        status,
        reason,
        physical_resource_id: physical_id.to_string(),
        stack_id: request.stack_id.clone(),
        request_id: request.request_id.clone(),
        logical_resource_id: request.logical_resource_id.clone(),
        data: BTreeMap::new(),
    }
}

/// The repository an image lives in, as the trigger names it.
#[derive(Debug, Clone, Copy)]
pub struct ImageRepository<'a> {
    /// `RepositoryName`.
    pub name: &'a str,
    /// `RepositoryArn`.
    pub arn: &'a str,
    /// `RepositoryUri`, in the home region.
    pub uri: &'a str,
    /// The replica regions.
    pub replica_regions: &'a [String],
}

/// The attributes of an image `tag` with `digest` in `repository`: what `Fn::GetAtt` reads
/// of a built image, a pushed tarball and an index alike.
pub fn attributes_in(
    repository: ImageRepository<'_>,
    tag: &str,
    digest: &str,
    home_region: &str,
) -> BTreeMap<String, String> {
    let uri = repository.uri;
    let mut data = BTreeMap::new();
    data.insert("ImageUri".into(), format!("{uri}:{tag}"));
    data.insert("ImageTag".into(), tag.to_string());
    data.insert("ImageDigest".into(), digest.to_string());
    data.insert("ImageUriWithDigest".into(), format!("{uri}@{digest}"));
    data.insert("RepositoryName".into(), repository.name.to_string());
    data.insert("RepositoryArn".into(), repository.arn.to_string());
    data.insert("RepositoryUri".into(), uri.to_string());
    for region in repository.replica_regions {
        data.insert(
            format!("ImageUri.{region}"),
            format!(
                "{}:{tag}",
                cib_trigger::replica_repository_uri(uri, home_region, region)
            ),
        );
    }
    data
}

/// The attributes of a built image: what `Fn::GetAtt` reads.
pub fn image_attributes(
    props: &TriggerProperties,
    tag: &str,
    digest: &str,
    home_region: &str,
) -> BTreeMap<String, String> {
    let repository = ImageRepository {
        name: &props.repository_name,
        arn: &props.repository_arn,
        uri: &props.repository_uri,
        replica_regions: &props.replica_regions,
    };
    attributes_in(repository, tag, digest, home_region)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn response(reason: String, data: BTreeMap<String, String>) -> CfnResponse {
        CfnResponse {
            status: Status::Failed,
            reason,
            physical_resource_id: "Api-0123456789abcdef".into(),
            stack_id: "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1".into(),
            request_id: "r-1".into(),
            logical_resource_id: "Api".into(),
            data,
        }
    }

    #[test]
    fn a_small_answer_is_unchanged() {
        let r = response("boom".into(), BTreeMap::new());
        let v: Value = serde_json::from_slice(&r.to_body()).expect("json");
        assert_eq!(v["Reason"], "boom");
        assert_eq!(v["Status"], "FAILED");
        assert!(v.get("Data").is_none());
    }

    #[test]
    fn a_long_reason_is_truncated_and_the_json_stays_valid() {
        // Quotes and multi-byte characters make escaping and boundaries matter.
        let reason = "é\"\\\n".repeat(3000);
        let body = response(reason, BTreeMap::new()).to_body();
        assert!(body.len() <= MAX_RESPONSE_BYTES, "{}", body.len());
        assert!(
            body.len() > MAX_RESPONSE_BYTES - 16,
            "uses the room: {}",
            body.len()
        );
        let v: Value = serde_json::from_slice(&body).expect("json");
        assert!(v["Reason"].as_str().is_some_and(|r| r.contains(TRUNCATED)));
    }

    #[test]
    fn a_shortened_reason_keeps_its_start_and_its_log_link() {
        let link = "https://console.aws.amazon.com/codesuite/codebuild/projects/p/build/p%3A1/log";
        let reason = format!(
            "The image build failed in phase BUILD (FAILED: {}). Log: {link}",
            "npm ERR! \"x\" é ".repeat(500)
        );
        let body = response(reason, BTreeMap::new()).to_body();
        assert!(body.len() <= MAX_RESPONSE_BYTES, "{}", body.len());
        let v: Value = serde_json::from_slice(&body).expect("json");
        let kept = v["Reason"].as_str().expect("reason");
        assert!(
            kept.starts_with("The image build failed in phase BUILD"),
            "{kept}"
        );
        assert!(kept.ends_with(&format!("Log: {link}")), "{kept}");
        assert!(kept.contains(TRUNCATED), "{kept}");
    }

    #[test]
    fn too_much_data_becomes_a_failure_that_fits() {
        let data = (0..100)
            .map(|i| (format!("ImageUri.region-{i}"), "x".repeat(100)))
            .collect();
        let mut r = response(String::new(), data);
        r.status = Status::Success;
        let body = r.to_body();
        assert!(body.len() <= MAX_RESPONSE_BYTES);
        let v: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["Status"], "FAILED");
        assert!(v.get("Data").is_none());
    }
}
