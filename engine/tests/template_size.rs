//! CIB041 and CIB042 measure the expanded template as it is written: YAML or pretty JSON
//! from `cib expand` and `cib deploy`, compact JSON from the macro. CloudFormation's 51,200
//! bytes (inline) and 1 MB (from S3) apply to that text, not to a minified copy of it.

use std::path::Path;

use cib_engine::checks::ids;
use cib_engine::checks::template_limits::{MAX_INLINE_TEMPLATE_BYTES, written_size};
use cib_engine::template::{parse_yaml, to_json, to_yaml};
use cib_engine::{ExpandOptions, Finding, Written, expand};
use serde_json::{Map, Value};

/// The first `count` services of `samples/fifty-images.yaml` (image and function each),
/// with the shared function role.
fn services(count: usize) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/fifty-images.yaml");
    let text = std::fs::read_to_string(&path).expect("read fifty-images sample");
    let mut template = parse_yaml(&text).expect("sample parses");
    let wanted: Vec<String> = (1..=count).map(|i| format!("Service{i:02}")).collect();
    let resources = template["Resources"]
        .as_object()
        .expect("Resources")
        .clone();
    let kept: Map<String, Value> = resources
        .into_iter()
        .filter(|(id, _)| id == "FunctionRole" || wanted.iter().any(|w| id.starts_with(w.as_str())))
        .collect();
    assert_eq!(kept.len(), 1 + 2 * count, "services in the sample");
    template["Resources"] = Value::Object(kept);
    template
}

fn run(template: &Value, written: Written) -> (Value, Vec<Finding>) {
    let options = ExpandOptions {
        region: Some("us-east-1".into()),
        written,
        ..ExpandOptions::default()
    };
    let outcome = expand(template, &options);
    let expanded = outcome
        .template
        .unwrap_or_else(|| panic!("does not expand: {:?}", outcome.findings));
    (expanded, outcome.findings)
}

fn warns(findings: &[Finding]) -> Option<&Finding> {
    findings.iter().find(|f| f.id == ids::TEMPLATE_NEEDS_S3)
}

#[test]
fn the_size_is_measured_on_the_text_written() {
    let template = services(10);
    for (written, text) in [
        (Written::Yaml, to_yaml as fn(&Value) -> String),
        (Written::PrettyJson, to_json),
        (Written::CompactJson, |v: &Value| v.to_string()),
    ] {
        let (expanded, findings) = run(&template, written);
        let size = text(&expanded).len();
        assert_eq!(written_size(&expanded, written), size, "{written:?}");
        match warns(&findings) {
            Some(finding) => {
                assert!(size > MAX_INLINE_TEMPLATE_BYTES, "{written:?}: {size}");
                assert!(
                    finding.message.contains(&format!("{size} bytes")),
                    "{written:?}: {}",
                    finding.message
                );
            }
            None => assert!(
                size <= MAX_INLINE_TEMPLATE_BYTES,
                "{written:?}: {size} bytes, no warning"
            ),
        }
    }
}

#[test]
fn pretty_json_warns_where_minified_json_would_not() {
    // Pretty JSON is larger than compact JSON: some number of images lies between the two,
    // and there the warning must follow the text written (`cib expand -o x.json`).
    let count = (1..=50)
        .find(|&n| {
            let template = services(n);
            let (expanded, _) = run(&template, Written::CompactJson);
            expanded.to_string().len() <= MAX_INLINE_TEMPLATE_BYTES
                && to_json(&expanded).len() > MAX_INLINE_TEMPLATE_BYTES
        })
        .expect("an image count whose compact JSON fits inline and pretty JSON does not");
    let template = services(count);
    let (expanded, pretty) = run(&template, Written::PrettyJson);
    assert!(
        warns(&pretty).is_some(),
        "{count} images, {} bytes of pretty JSON: no CIB042",
        to_json(&expanded).len()
    );
    let (_, compact) = run(&template, Written::CompactJson);
    assert!(
        warns(&compact).is_none(),
        "{count} images: compact JSON warned"
    );
}

#[test]
fn the_resource_count_fix_says_what_each_image_adds() {
    let mut text = String::from("Resources:\n");
    for i in 0..250 {
        text.push_str(&format!(
            "  Image{i:03}: {{Type: Custom::ContainerImageBuild, Properties: {{Source: {{Dockerfile: 'FROM scratch'}}}}}}\n"
        ));
    }
    let template = parse_yaml(&text).expect("parses");
    let outcome = expand(&template, &ExpandOptions::default());
    let finding = outcome
        .findings
        .iter()
        .find(|f| f.id == ids::TOO_MANY_RESOURCES)
        .expect("CIB040");
    assert!(finding.fix.contains("2 resources"), "{}", finding.fix);
    assert!(
        finding.fix.contains("3 with a log group of its own"),
        "{}",
        finding.fix
    );
}
