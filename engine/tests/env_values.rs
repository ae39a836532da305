//! Every environment value of every generated CodeBuild project fits in CodeBuild's 4096
//! characters (`cib_contract::ENV_VALUE_MAX_CHARS`), for every sample and for the edge
//! fixtures; the shared scripts ride gzip+base64 and decode to `engine/assets/*.sh` byte for
//! byte; and a literal value that cannot fit is refused at synth time (CIB044).

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cib_contract::ENV_VALUE_MAX_CHARS;
use cib_engine::checks::ids;
use cib_engine::expand::buildspec::SCRIPT_VARIABLES;
use cib_engine::{ExpandOptions, expand, template};
use flate2::read::GzDecoder;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("engine/ has a parent")
        .to_owned()
}

/// The templates checked: every sample, and the edge fixtures of this test.
fn templates() -> Vec<PathBuf> {
    let mut found = Vec::new();
    for dir in [
        root().join("samples"),
        root().join("engine/tests/fixtures/env_values"),
    ] {
        for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "json")
            ) {
                found.push(path);
            }
        }
    }
    found.sort();
    assert!(found.len() >= 9, "too few templates: {found:?}");
    found
}

fn expand_file(path: &Path) -> cib_engine::Outcome {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (value, _) = template::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let options = ExpandOptions {
        region: Some("us-east-1".into()),
        ..ExpandOptions::default()
    };
    expand(&value, &options)
}

/// (project id, variable name, value) of every project environment variable.
fn project_variables(expanded: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    let resources = expanded["Resources"].as_object().expect("Resources");
    for (id, resource) in resources {
        if resource["Type"] != "AWS::CodeBuild::Project" {
            continue;
        }
        let variables = resource
            .pointer("/Properties/Environment/EnvironmentVariables")
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("{id}: no EnvironmentVariables"));
        for variable in variables {
            out.push((
                id.clone(),
                variable["Name"].as_str().unwrap_or_default().to_owned(),
                variable["Value"].clone(),
            ));
        }
    }
    out
}

fn decode(value: &str) -> Vec<u8> {
    let compressed = STANDARD.decode(value).expect("base64");
    let mut text = Vec::new();
    GzDecoder::new(compressed.as_slice())
        .read_to_end(&mut text)
        .expect("gzip");
    text
}

/// The asset file each script variable carries, read from disk (not from the engine).
fn asset(variable: &str) -> Vec<u8> {
    let file = match variable {
        "CIB_LOGIN_SCRIPT_GZ" => "login.sh",
        "CIB_BUILD_SCRIPT_GZ" => "build.sh",
        "CIB_RESPOND_SCRIPT_GZ" => "respond.sh",
        "CIB_SCAN_SCRIPT_GZ" => "scan.sh",
        other => panic!("unexpected script variable {other}"),
    };
    let path = root().join("engine/assets").join(file);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // The variable carries the script's code: the file without its comment lines.
    cib_engine::expand::buildspec::script_code(&text).into_bytes()
}

#[test]
fn every_project_environment_value_fits_and_the_scripts_decode_to_the_assets() {
    let mut projects = 0;
    for path in templates() {
        let name = path.display().to_string();
        let outcome = expand_file(&path);
        let expanded = outcome
            .template
            .unwrap_or_else(|| panic!("{name} does not expand: {:?}", outcome.findings));
        let variables = project_variables(&expanded);
        let mut seen_projects: Vec<&str> = variables.iter().map(|(p, _, _)| p.as_str()).collect();
        seen_projects.dedup();
        projects += seen_projects.len();
        for (project, variable, value) in &variables {
            let text = value
                .as_str()
                .unwrap_or_else(|| panic!("{name} {project} {variable}: not a literal string"));
            let length = text.chars().count();
            assert!(
                length <= ENV_VALUE_MAX_CHARS,
                "{name} {project} {variable}: {length} characters, over {ENV_VALUE_MAX_CHARS}"
            );
            assert!(
                !variable.ends_with("_SCRIPT"),
                "{name} {project}: script {variable} travels uncompressed"
            );
        }
        for project in seen_projects {
            for (script, _) in SCRIPT_VARIABLES {
                let values: Vec<&Value> = variables
                    .iter()
                    .filter(|(p, v, _)| p == project && v == script)
                    .map(|(_, _, value)| value)
                    .collect();
                assert_eq!(values.len(), 1, "{name} {project}: {script} once");
                let decoded = decode(values[0].as_str().unwrap_or_default());
                assert!(
                    decoded == asset(script),
                    "{name} {project}: {script} does not decode to its asset"
                );
            }
        }
    }
    assert!(projects >= 12, "only {projects} projects checked");
}

#[test]
fn the_buildspec_decodes_each_script_from_its_variable() {
    let outcome = expand_file(&root().join("engine/tests/fixtures/env_values/edge.yaml"));
    let expanded = outcome.template.expect("edge fixture expands");
    let spec = expanded["Resources"]["LongArgImage"]["Properties"]["BuildSpec"]
        .as_str()
        .expect("BuildSpec");
    for (variable, _) in SCRIPT_VARIABLES {
        let words = format!("printf '%s' \"${variable}\" | base64 -d | gunzip");
        assert!(spec.contains(&words), "{variable} not decoded in:\n{spec}");
    }
    assert!(!spec.contains("$CIB_BUILD_SCRIPT\""), "{spec}");
}

#[test]
fn the_edge_fixture_keeps_long_intrinsic_values_for_the_provider() {
    // A build arg whose value is an intrinsic is only known at deploy time: it expands, and
    // the provider refuses it before StartBuild if it resolves to more than 4096 characters.
    let outcome = expand_file(&root().join("engine/tests/fixtures/env_values/edge.yaml"));
    assert!(
        !outcome
            .findings
            .iter()
            .any(|f| f.id == ids::ENV_VALUE_TOO_LONG),
        "{:?}",
        outcome.findings
    );
    let expanded = outcome.template.expect("edge fixture expands");
    let args = &expanded["Resources"]["LongArgImage"]["Properties"]["BuildArgs"];
    assert_eq!(
        args["APP_EXACT"].as_str().map(str::len),
        Some(ENV_VALUE_MAX_CHARS)
    );
    assert!(args["APP_LATE"]["Fn::Sub"].is_string());
}

#[test]
fn literal_values_that_cannot_fit_are_refused_with_their_paths() {
    let outcome = expand_file(&root().join("engine/tests/fixtures/checks/CIB044/bad.yaml"));
    assert!(outcome.template.is_none());
    let paths: Vec<&str> = outcome
        .findings
        .iter()
        .filter(|f| f.id == ids::ENV_VALUE_TOO_LONG)
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(
        paths,
        ["Resources.ApiImage.Properties.BuildArgs.APP_CONFIG"]
    );
}
