//! The command line's behaviour: standard input, atomic `-o`, formats, exit codes,
//! and the JSON report.

mod common;

use std::fs;
use std::io::Write;
use std::process::{Output, Stdio};

use common::{cib, describe, repo_root};

const MINIMAL: &str = "samples/minimal-lambda.yaml";
const BROKEN_YAML: &str = "Resources:\n  A: [1, 2\n";

/// Runs `cib` with `args`, feeding `stdin` to it.
fn run_with_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = cib()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cib");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait for cib")
}

fn run(args: &[&str]) -> Output {
    cib().args(args).output().expect("run cib")
}

fn parse(bytes: &[u8]) -> serde_json::Value {
    cib_engine::template::parse(bytes)
        .unwrap_or_else(|e| panic!("output does not parse: {e}"))
        .0
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["expand"][..],
        &["frobnicate"],
        &["expand", MINIMAL, "--format", "xml"],
        &["check", MINIMAL, "--format", "yaml"],
        &["expand", MINIMAL, "--parameter-overrides", "NoEquals"],
    ] {
        let output = run(args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            describe(&output)
        );
    }
}

#[test]
fn help_of_each_command_shows_an_example() {
    for command in ["expand", "check", "push"] {
        let output = run(&[command, "--help"]);
        assert!(output.status.success(), "{}", describe(&output));
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains("Examples:"), "{command} --help:\n{text}");
        assert!(
            text.contains(&format!("cib {command} ")),
            "{command} --help:\n{text}"
        );
    }
}

#[test]
fn a_missing_template_exits_1_naming_it() {
    let output = run(&["expand", "no/such/template.yaml"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no/such/template.yaml"));
}

#[test]
fn malformed_yaml_is_cib001_at_line_and_column() {
    let output = run_with_stdin(&["expand", "-"], BROKEN_YAML);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(output.stdout.is_empty(), "nothing is written on error");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error[CIB001] line "), "{stderr}");
    assert!(stderr.contains(", column "), "{stderr}");
}

#[test]
fn check_json_report_is_valid_json_with_id_and_path() {
    let output = run_with_stdin(&["check", "-", "--format", "json"], BROKEN_YAML);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("check --format json prints JSON");
    let first = &report["findings"][0];
    assert_eq!(first["id"], "CIB001");
    assert!(
        first["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("line ")),
        "{report}"
    );
    assert_eq!(report["errors"], 1);
}

#[test]
fn failed_expansion_creates_no_output_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("out.yaml");
    let target_arg = target.to_str().expect("utf-8 path");
    let output = run_with_stdin(&["expand", "-", "-o", target_arg], BROKEN_YAML);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(!target.exists(), "no file may be written on error");
    let leftovers: Vec<_> = fs::read_dir(dir.path()).expect("list").collect();
    assert!(
        leftovers.is_empty(),
        "no temporary file left: {leftovers:?}"
    );
}

#[test]
fn failed_expansion_leaves_an_existing_output_untouched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("out.yaml");
    fs::write(&target, "previous: content\n").expect("seed");
    let target_arg = target.to_str().expect("utf-8 path");
    let output = run_with_stdin(&["expand", "-", "-o", target_arg], BROKEN_YAML);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert_eq!(
        fs::read_to_string(&target).expect("read"),
        "previous: content\n"
    );
}

#[test]
fn expand_reads_standard_input_and_keeps_its_format() {
    let sample = fs::read_to_string(repo_root().join(MINIMAL)).expect("read sample");
    let from_stdin = run_with_stdin(&["expand", "-", "--region", "us-east-1"], &sample);
    assert!(from_stdin.status.success(), "{}", describe(&from_stdin));
    let from_file = run(&["expand", MINIMAL, "--region", "us-east-1"]);
    assert!(from_file.status.success(), "{}", describe(&from_file));
    assert_eq!(from_stdin.stdout, from_file.stdout);
    assert!(
        !from_stdin.stdout.starts_with(b"{"),
        "YAML in, YAML out by default"
    );
}

#[test]
fn format_json_and_yaml_write_the_same_template() {
    let yaml = run(&[
        "expand",
        MINIMAL,
        "--region",
        "us-east-1",
        "--format",
        "yaml",
    ]);
    let json = run(&[
        "expand",
        MINIMAL,
        "--region",
        "us-east-1",
        "--format",
        "json",
    ]);
    assert!(yaml.status.success(), "{}", describe(&yaml));
    assert!(json.status.success(), "{}", describe(&json));
    let from_json: serde_json::Value =
        serde_json::from_slice(&json.stdout).expect("--format json is JSON");
    assert_eq!(from_json, parse(&yaml.stdout));
}

#[test]
fn json_input_defaults_to_json_output() {
    let output = run(&["expand", "samples/minimal.json", "--region", "us-east-1"]);
    assert!(output.status.success(), "{}", describe(&output));
    serde_json::from_slice::<serde_json::Value>(&output.stdout).expect("JSON out");
}

#[test]
fn output_file_is_written_whole_and_replaces_the_old_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("expanded.yaml");
    fs::write(&target, "old: file\n").expect("seed");
    let target_arg = target.to_str().expect("utf-8 path");
    let output = run(&["expand", MINIMAL, "--region", "us-east-1", "-o", target_arg]);
    assert!(output.status.success(), "{}", describe(&output));
    assert!(output.stdout.is_empty(), "with -o nothing goes to stdout");
    let stdout = run(&["expand", MINIMAL, "--region", "us-east-1"]).stdout;
    assert_eq!(fs::read(&target).expect("read output"), stdout);
    let names: Vec<_> = fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("expanded.yaml")]);
}

#[test]
fn check_passes_a_valid_sample_with_exit_0() {
    let output = run(&["check", MINIMAL, "--region", "us-east-1"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let json = run(&[
        "check",
        MINIMAL,
        "--region",
        "us-east-1",
        "--format",
        "json",
    ]);
    assert_eq!(json.status.code(), Some(0), "{}", describe(&json));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(report["errors"], 0);
}

#[test]
fn region_comes_from_aws_region_when_no_flag_is_given() {
    // A replica equal to the stack's region is an error: the region must have been seen.
    let template = "Resources:\n  Img:\n    Type: Custom::ContainerImageBuild\n    Properties:\n      Source: {Dockerfile: \"FROM scratch\\n\"}\n      ReplicaRegions: [eu-west-1]\n";
    let mut command = cib();
    let output = command
        .args(["check", "-", "--format", "json"])
        .env("AWS_REGION", "eu-west-1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(template.as_bytes())?;
            child.wait_with_output()
        })
        .expect("run cib");
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert!(
        report["findings"]
            .as_array()
            .is_some_and(|all| all.iter().any(|f| f["path"]
                .as_str()
                .is_some_and(|p| p.contains("ReplicaRegions")))),
        "{report}"
    );
    let with_flag = run_with_stdin(&["check", "-", "--region", "us-east-1"], template);
    assert_eq!(with_flag.status.code(), Some(0), "{}", describe(&with_flag));
}

#[test]
fn hostile_input_is_a_finding_never_a_panic() {
    let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
                c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n\
                e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n\
                g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    let cases: [(&str, Vec<u8>); 7] = [
        ("invalid UTF-8", b"Resources:\n  A: \xff\xfe\n".to_vec()),
        ("NUL byte", b"Resources: {}\0".to_vec()),
        ("deep nesting", deep.into_bytes()),
        ("alias bomb", bomb.as_bytes().to_vec()),
        ("duplicate key", b"Resources: {}\nResources: {}\n".to_vec()),
        ("tag on a key", b"Resources:\n  !Bogus k: v\n".to_vec()),
        ("truncated JSON", b"{\"Resources\": {".to_vec()),
    ];
    for (name, bytes) in cases {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let mut child = cib()
            .args(["check", "-", "--format", "json"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn cib");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(&bytes)
            .expect("write stdin");
        let output = child.wait_with_output().expect("wait for cib");
        assert_eq!(
            output.status.code(),
            Some(1),
            "{name} ({text:.40}): {}",
            describe(&output)
        );
        let report: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{name}: report is not JSON ({e}): {}", describe(&output)));
        assert_eq!(report["findings"][0]["id"], "CIB001", "{name}: {report}");
    }
}

#[test]
fn expand_keeps_the_order_of_top_level_keys_and_drops_only_our_transform() {
    let output = run(&[
        "expand",
        MINIMAL,
        "--region",
        "us-east-1",
        "--format",
        "json",
    ]);
    assert!(output.status.success(), "{}", describe(&output));
    let expanded: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let keys: Vec<&str> = expanded
        .as_object()
        .expect("a template is an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "AWSTemplateFormatVersion",
            "Description",
            "Parameters",
            "Resources",
            "Outputs"
        ]
    );
}

#[test]
fn readme_first_command_expands_a_sample_with_no_region_set() {
    // `cargo run -q -p cib -- expand samples/minimal-lambda.yaml` on a fresh machine.
    let output = run(&["expand", MINIMAL]);
    assert!(output.status.success(), "{}", describe(&output));
    let expanded = parse(&output.stdout);
    assert_eq!(
        expanded["Resources"]["HelloImage"]["Type"],
        "Custom::ContainerImageBuild"
    );
    assert!(
        expanded.get("Transform").is_none(),
        "our Transform entry is removed"
    );
}

/// Expands `sample` for us-east-1 as JSON with extra arguments; panics unless it succeeds.
fn expand_json(sample: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "expand",
        sample,
        "--region",
        "us-east-1",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let output = run(&args);
    assert!(output.status.success(), "{}", describe(&output));
    serde_json::from_slice(&output.stdout).expect("JSON")
}

#[test]
fn parameter_overrides_decide_a_platform_given_by_ref() {
    // samples/ecs-fargate.yaml: `Platform: !Ref Platform`, Default linux/arm64.
    let by_default = expand_json("samples/ecs-fargate.yaml", &[]);
    assert!(by_default["Resources"]["ContainerImageBuildProjectArm64"].is_object());
    let overridden = expand_json(
        "samples/ecs-fargate.yaml",
        &["--parameter-overrides", "Platform=linux/amd64"],
    );
    let resources = &overridden["Resources"];
    assert!(resources["ContainerImageBuildProjectAmd64"].is_object());
    assert!(resources["ContainerImageBuildProjectArm64"].is_null());
    assert_eq!(
        resources["WebImage"]["Properties"]["Platform"],
        "linux/amd64"
    );
}

#[test]
fn provider_arn_becomes_the_service_token() {
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:my-provider";
    let expanded = expand_json(MINIMAL, &["--provider-arn", arn]);
    assert_eq!(
        expanded["Resources"]["HelloImage"]["Properties"]["ServiceToken"],
        arn
    );
}

#[test]
fn warnings_are_reported_but_never_fail() {
    // Fifty images expand past the 51,200 bytes CloudFormation accepts inline: a warning.
    let sample = "samples/fifty-images.yaml";
    let expanded = run(&["expand", sample, "--region", "us-east-1"]);
    assert_eq!(expanded.status.code(), Some(0), "{}", describe(&expanded));
    assert!(!expanded.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&expanded.stderr).contains("warning["),
        "{}",
        describe(&expanded)
    );
    let checked = run(&["check", sample, "--region", "us-east-1", "--format", "json"]);
    assert_eq!(checked.status.code(), Some(0), "{}", describe(&checked));
    let report: serde_json::Value = serde_json::from_slice(&checked.stdout).expect("JSON");
    assert_eq!(report["errors"], 0);
    assert!(
        report["warnings"].as_u64().is_some_and(|n| n >= 1),
        "{report}"
    );
    assert!(report["findings"][0]["id"].is_string(), "{report}");
}

#[test]
fn an_error_finding_writes_nothing_and_exits_1() {
    // Replicating into the stack's own region is an error (the sample is meant for us-east-1).
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("out.yaml");
    let target_arg = target.to_str().expect("utf-8 path");
    let output = run(&[
        "expand",
        "samples/replication.yaml",
        "--region",
        "eu-west-1",
        "-o",
        target_arg,
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("error[CIB"));
    assert!(!target.exists());
    let checked = run(&[
        "check",
        "samples/replication.yaml",
        "--region",
        "eu-west-1",
        "--format",
        "json",
    ]);
    assert_eq!(checked.status.code(), Some(1), "{}", describe(&checked));
    let report: serde_json::Value = serde_json::from_slice(&checked.stdout).expect("JSON");
    let paths: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert!(
        paths.contains(&"Resources.BatchImage.Properties.ReplicaRegions[0]"),
        "{report}"
    );
}
