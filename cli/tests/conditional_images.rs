//! Shared resources follow their images' conditions: with every image behind a condition,
//! the projects, the build role, the log group, the cache repository and the replication
//! resource are behind the `Fn::Or` of those conditions (nested past ten), so a stack with
//! every image switched off creates none of them; cfn-lint accepts the expansion.

mod common;

use common::{assert_cfn_lint_clean, cib, describe};
use serde_json::Value;

/// `count` images, image `i` behind condition `Build<i>` when `conditional(i)`; odd images
/// use no registry cache, every third replicates.
fn template(count: usize, conditional: impl Fn(usize) -> bool) -> String {
    let mut text = String::from(
        "Transform: ContainerImageBuild\nParameters:\n  Enabled:\n    Type: String\n    Default: 'no'\nConditions:\n",
    );
    for i in 0..count {
        text.push_str(&format!(
            "  Build{i}: !Equals [!Ref Enabled, 'image-{i}']\n"
        ));
    }
    text.push_str("Resources:\n");
    for i in 0..count {
        text.push_str(&format!(
            "  Image{i}:\n    Type: Custom::ContainerImageBuild\n"
        ));
        if conditional(i) {
            text.push_str(&format!("    Condition: Build{i}\n"));
        }
        text.push_str(&format!(
            "    Properties:\n      Source: {{S3Bucket: contexts, S3Key: ctx/{i}.zip}}\n"
        ));
        if i % 2 == 1 {
            text.push_str("      CacheDisabled: true\n");
        }
        if i % 3 == 0 {
            text.push_str("      ReplicaRegions: [us-west-2]\n");
        }
    }
    text
}

fn expand(text: &str) -> Value {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("in.yaml");
    std::fs::write(&input, text).expect("write template");
    let output = dir.path().join("out.json");
    let run = cib()
        .arg("expand")
        .arg(&input)
        .args(["--region", "us-east-1", "--format", "json", "-o"])
        .arg(&output)
        .output()
        .expect("run cib");
    assert!(run.status.success(), "{}", describe(&run));
    assert_cfn_lint_clean(&output);
    serde_json::from_str(&std::fs::read_to_string(&output).expect("read")).expect("JSON")
}

/// The conditions named anywhere under `v` (`{"Condition": name}` leaves).
fn leaves(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(name)) = m.get("Condition") {
                out.push(name.clone());
            }
            m.values().for_each(|c| leaves(c, out));
        }
        Value::Array(items) => items.iter().for_each(|c| leaves(c, out)),
        _ => {}
    }
}

/// The image conditions a shared resource's condition stands for.
fn stands_for(t: &Value, resource: &str) -> Vec<String> {
    let Some(name) = t["Resources"][resource]["Condition"].as_str() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    match t["Conditions"].get(name) {
        Some(own) if name.starts_with("ContainerImageBuild") => leaves(own, &mut out),
        _ => out.push(name.to_string()),
    }
    out.sort();
    out
}

fn build_conditions(of: impl Iterator<Item = usize>) -> Vec<String> {
    let mut names: Vec<String> = of.map(|i| format!("Build{i}")).collect();
    names.sort();
    names
}

fn or_widths(v: &Value, out: &mut Vec<usize>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Array(items)) = m.get("Fn::Or") {
                out.push(items.len());
            }
            m.values().for_each(|c| or_widths(c, out));
        }
        Value::Array(items) => items.iter().for_each(|c| or_widths(c, out)),
        _ => {}
    }
}

#[test]
fn with_every_image_conditional_the_shared_resources_follow_their_conditions() {
    let count = 12;
    let t = expand(&template(count, |_| true));
    let resources = t["Resources"].as_object().expect("resources");
    let all = build_conditions(0..count);
    assert_eq!(stands_for(&t, "ContainerImageBuildRole"), all);
    assert_eq!(stands_for(&t, "ContainerImageBuildLogGroup"), all);
    assert_eq!(
        stands_for(&t, "ContainerImageBuildCache"),
        build_conditions((0..count).filter(|i| i % 2 == 0)),
        "the cache is used by the images with a cache only"
    );
    let replication = resources
        .keys()
        .find(|k| k.contains("Replication"))
        .expect("a replication resource");
    assert_eq!(
        stands_for(&t, replication),
        build_conditions((0..count).filter(|i| i % 3 == 0))
    );
    let projects: Vec<&String> = resources
        .keys()
        .filter(|k| resources[k.as_str()]["Type"] == "AWS::CodeBuild::Project")
        .collect();
    assert!(!projects.is_empty());
    for project in projects {
        assert_eq!(stands_for(&t, project), all, "{project}");
    }
    // Twelve conditions do not fit one Fn::Or.
    let mut widths = Vec::new();
    or_widths(&t["Conditions"], &mut widths);
    assert!(widths.iter().any(|w| *w < count), "{widths:?}");
    assert!(widths.iter().all(|w| (2..=10).contains(w)), "{widths:?}");
    // The role outlives the cache: its cache statement names the cache only while it exists.
    let statements = t["Resources"]["ContainerImageBuildRole"]["Properties"]["Policies"][0]
        ["PolicyDocument"]["Statement"]
        .to_string();
    assert!(
        statements.contains("\"Fn::If\":[\"ContainerImageBuildCacheUsed\""),
        "{statements}"
    );
}

#[test]
fn one_unconditional_image_keeps_the_shared_resources_unconditional() {
    let t = expand(&template(3, |i| i != 1));
    for id in ["ContainerImageBuildRole", "ContainerImageBuildLogGroup"] {
        assert!(t["Resources"][id].get("Condition").is_none(), "{id}");
    }
    // The cache serves images 0 and 2 only, both conditional.
    assert_eq!(
        stands_for(&t, "ContainerImageBuildCache"),
        ["Build0", "Build2"]
    );
}

#[test]
fn a_condition_name_the_template_already_uses_is_left_alone() {
    // The template owns a condition named as ours would be: ours takes another name.
    let text = template(2, |_| true).replace(
        "Conditions:\n",
        "Conditions:\n  ContainerImageBuildRoleUsed: !Equals [!Ref Enabled, 'mine']\n",
    );
    let t = expand(&text);
    assert_eq!(
        t["Conditions"]["ContainerImageBuildRoleUsed"],
        serde_json::json!({"Fn::Equals": [{"Ref": "Enabled"}, "mine"]}),
        "the user's condition is unchanged"
    );
    let role = t["Resources"]["ContainerImageBuildRole"]["Condition"]
        .as_str()
        .expect("a conditional role");
    assert_ne!(role, "ContainerImageBuildRoleUsed");
    assert_eq!(
        stands_for(&t, "ContainerImageBuildRole"),
        ["Build0", "Build1"]
    );
}
