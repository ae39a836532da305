//! The generated buildspec is shell that CodeBuild runs: every command the engine writes
//! (and every shared script those commands run) passes `shellcheck`, and no template value
//! ever becomes shell text: hostile values stay data, in the trigger's properties and, at
//! build time, in environment variables, and reach `docker` as exactly one argument each.
//!
//! `shellcheck` must be installed (`apt-get install -y shellcheck`); the test fails without it.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use cib_engine::checks::ids;
use cib_engine::template::{parse_yaml, to_yaml};
use cib_engine::{ExpandOptions, expand};
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------------------------
// Helpers

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("cib-buildspec-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create scratch directory");
        Scratch(dir)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Expands a YAML template (region us-east-1) and returns the expanded template.
fn expanded(yaml: &str) -> Value {
    let template = parse_yaml(yaml).unwrap_or_else(|e| panic!("template does not parse: {e}"));
    let options = ExpandOptions {
        region: Some("us-east-1".into()),
        ..ExpandOptions::default()
    };
    let outcome = expand(&template, &options);
    let errors: Vec<String> = outcome
        .findings
        .iter()
        .filter(|f| f.is_error())
        .map(ToString::to_string)
        .collect();
    assert!(
        errors.is_empty(),
        "expansion failed:\n{}",
        errors.join("\n")
    );
    outcome.template.expect("a template when there is no error")
}

fn resources(template: &Value) -> &Map<String, Value> {
    template
        .get("Resources")
        .and_then(Value::as_object)
        .expect("Resources")
}

/// The trigger properties of image `id`.
fn trigger<'a>(template: &'a Value, id: &str) -> &'a Map<String, Value> {
    resources(template)
        .get(id)
        .and_then(|r| r.get("Properties"))
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("no trigger {id}"))
}

fn buildspec_text<'a>(template: &'a Value, id: &str) -> &'a str {
    trigger(template, id)
        .get("BuildSpec")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{id} has no BuildSpec string"))
}

/// Every command of every phase of image `id`'s buildspec: (phase, command).
fn commands(template: &Value, id: &str) -> Vec<(String, String)> {
    let text = buildspec_text(template, id);
    let spec = parse_yaml(text).unwrap_or_else(|e| panic!("{id}: BuildSpec is not YAML: {e}"));
    assert_eq!(
        spec.pointer("/env/shell").and_then(Value::as_str),
        Some("bash"),
        "{id}: the buildspec must ask for bash"
    );
    let phases = spec
        .get("phases")
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("{id}: BuildSpec has no phases"));
    let mut out = Vec::new();
    for (phase, body) in phases {
        let list = body
            .get("commands")
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("{id}: phase {phase} has no commands"));
        for command in list {
            let command = command
                .as_str()
                .unwrap_or_else(|| panic!("{id}: a {phase} command is not a string: {command}"));
            out.push((phase.clone(), command.to_owned()));
        }
    }
    out
}

/// The environment variables of the CodeBuild project image `id` builds on.
fn project_variables(template: &Value, id: &str) -> BTreeMap<String, String> {
    let project_id = trigger(template, id)
        .get("ProjectName")
        .and_then(|v| v.get("Ref"))
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{id}: ProjectName is not a Ref"));
    let variables = resources(template)
        .get(project_id)
        .and_then(|p| p.pointer("/Properties/Environment/EnvironmentVariables"))
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{project_id}: no EnvironmentVariables"));
    variables
        .iter()
        .filter_map(|v| {
            Some((
                v.get("Name")?.as_str()?.to_owned(),
                v.get("Value")?.as_str()?.to_owned(),
            ))
        })
        .collect()
}

/// A script as the build decodes it from its project variable (`base64 -d | gunzip`).
fn unpack(packed: &str) -> String {
    use base64::Engine;
    use std::io::Read;
    let compressed = base64::engine::general_purpose::STANDARD
        .decode(packed)
        .expect("script variable is base64");
    let mut script = String::new();
    flate2::read::GzDecoder::new(compressed.as_slice())
        .read_to_string(&mut script)
        .expect("script variable is gzip of UTF-8 text");
    script
}

fn require_shellcheck() {
    match Command::new("shellcheck").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        _ => panic!(
            "shellcheck is not installed, and this test needs it: install it with \
             `apt-get install -y shellcheck` (CI installs it)"
        ),
    }
}

/// Runs `shellcheck -s bash` on `body` written as a bash script; returns its report on failure.
fn shellcheck(dir: &Path, name: &str, body: &str) -> Option<String> {
    let file = dir.join(format!("{name}.sh"));
    fs::write(&file, format!("#!/usr/bin/env bash\n{body}\n")).expect("write script");
    let out = Command::new("shellcheck")
        .arg("-s")
        .arg("bash")
        .arg(&file)
        .output()
        .expect("run shellcheck");
    if out.status.success() {
        None
    } else {
        Some(format!(
            "{name}:\n{body}\n--- shellcheck:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// shellcheck over every generated command

const USER_INSTALL: &[&str] = &[
    "echo $UNQUOTED_ON_PURPOSE",
    "pip install -r requirements.txt",
];
const USER_PRE_BUILD: &[&str] = &["ls -la", "cd src && make generate"];

fn images_template() -> String {
    format!(
        r#"AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Stage: {{Type: String, Default: prod}}
Resources:
  Plain:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {{S3Bucket: my-bucket, S3Key: plain.zip}}
  WithArgs:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {{S3Bucket: my-bucket, S3Key: args.zip, S3ObjectVersion: v3}}
      Dockerfile: docker/Dockerfile.prod
      Target: runtime
      BuildArgs:
        STAGE: !Ref Stage
        API_URL: !GetAtt Api.Endpoint
        _private: 'yes'
        Version2: 2
  WithSecrets:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {{S3Bucket: my-bucket, S3Key: secrets.zip}}
      BuildArgs: {{NODE_ENV: production}}
      BuildSecrets:
        npmrc: arn:aws:secretsmanager:us-east-1:123456789012:secret:npmrc-AbCdEf
        pip.conf: !Ref PipSecret
        gh_token: arn:aws:secretsmanager:us-east-1:123456789012:secret:gh-XyZ
  WithCommands:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {{S3Bucket: my-bucket, S3Key: cmds.zip}}
      InstallCommands: [{install}]
      PreBuildCommands: [{pre_build}]
      ReplicaRegions: [us-west-2]
  Everything:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {{Dockerfile: "FROM public.ecr.aws/docker/library/alpine:3\nRUN echo hi\n"}}
      Platform: linux/arm64
      Compression: zstd
      CacheDisabled: true
      DockerServer: true
      DockerLoginSecretArn: arn:aws:secretsmanager:us-east-1:123456789012:secret:hub
      PullThroughCachePrefixes: [docker-hub]
      BuildArgs: {{A: '1'}}
      BuildSecrets: {{tok: arn:aws:secretsmanager:us-east-1:123456789012:secret:tok}}
      InstallCommands: [{install}]
      PreBuildCommands: [{pre_build}]
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties: {{Name: api}}
  PipSecret:
    Type: AWS::SecretsManager::Secret
"#,
        install = quoted_list(USER_INSTALL),
        pre_build = quoted_list(USER_PRE_BUILD),
    )
}

fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|item| serde_json::to_string(item).expect("string"))
        .collect::<Vec<_>>()
        .join(", ")
}

const IMAGES: &[&str] = &[
    "Plain",
    "WithArgs",
    "WithSecrets",
    "WithCommands",
    "Everything",
];

#[test]
fn every_generated_buildspec_command_passes_shellcheck() {
    require_shellcheck();
    let scratch = Scratch::new("shellcheck");
    let template = expanded(&images_template());
    let mut failures = Vec::new();
    let mut checked = 0;
    for id in IMAGES {
        let user = trigger(&template, id);
        let user_commands: Vec<&str> = ["InstallCommands", "PreBuildCommands"]
            .iter()
            .filter_map(|key| user.get(*key).and_then(Value::as_array))
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let all = commands(&template, id);
        let phases: Vec<&str> = all.iter().map(|(p, _)| p.as_str()).collect();
        for phase in ["pre_build", "build", "post_build"] {
            assert!(
                phases.contains(&phase),
                "{id}: no {phase} phase: {phases:?}"
            );
        }
        for (index, (phase, command)) in all.iter().enumerate() {
            if user_commands.contains(&command.as_str()) {
                // The user's own shell lines: checked by the user, not by us.
                continue;
            }
            checked += 1;
            if let Some(report) =
                shellcheck(scratch.path(), &format!("{id}-{phase}-{index}"), command)
            {
                failures.push(report);
            }
        }
        // The user's commands are in the buildspec exactly as written, in their phases.
        for (phase, wanted) in [("install", USER_INSTALL), ("pre_build", USER_PRE_BUILD)] {
            if user.contains_key("InstallCommands") {
                for command in wanted {
                    assert!(
                        all.iter().any(|(p, c)| p == phase && c == command),
                        "{id}: user command {command:?} missing from phase {phase}"
                    );
                }
            }
        }
        // The shared scripts those commands run, from the project's environment (gzip+base64).
        for (name, packed) in project_variables(&template, id) {
            if name.ends_with("_SCRIPT_GZ") {
                checked += 1;
                let script = unpack(&packed);
                if let Some(report) = shellcheck(scratch.path(), &format!("{id}-{name}"), &script) {
                    failures.push(report);
                }
            }
        }
    }
    assert!(
        checked >= IMAGES.len() * 6,
        "only {checked} commands checked"
    );
    assert!(
        failures.is_empty(),
        "generated shell fails shellcheck:\n\n{}",
        failures.join("\n\n")
    );
}

#[test]
fn the_buildspec_depends_on_names_never_on_values() {
    // Two images that differ in every value but no name get the same buildspec.
    let one = r#"Resources:
  A:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {S3Bucket: one, S3Key: one.zip}
      Dockerfile: a/Dockerfile
      Target: x
      BuildArgs: {STAGE: dev}
      BuildSecrets: {npmrc: arn:aws:secretsmanager:us-east-1:1:secret:a}
"#;
    let two = r#"Resources:
  A:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {S3Bucket: two, S3Key: two.zip, S3ObjectVersion: '7'}
      Dockerfile: b/Dockerfile.other
      Target: y
      BuildArgs: {STAGE: !Sub '${AWS::StackName}-prod'}
      BuildSecrets: {other: arn:aws:secretsmanager:us-east-1:1:secret:b}
"#;
    let (a, b) = (expanded(one), expanded(two));
    assert_eq!(buildspec_text(&a, "A"), buildspec_text(&b, "A"));
}

// ---------------------------------------------------------------------------------------------
// Injection

/// Hostile texts, each made unique per use by a marker file name.
fn hostile(marker: &Path, n: usize) -> String {
    let file = marker.join(format!("pwned-{n}"));
    let file = file.display();
    match n % 7 {
        0 => format!("$(touch {file})"),
        1 => format!("`touch {file}`"),
        2 => format!("\"; touch {file}; echo \""),
        3 => format!("'; touch {file}; echo '"),
        4 => format!("'$HOME' ${{IFS}}$(touch {file}) && touch {file}"),
        5 => format!("two words * ? [a] {file} \\ ; | & > {file}"),
        _ => format!("--build-arg X=1 $((1+1)) ${{PATH}} <(touch {file})"),
    }
}

/// The literal values the brief names, checked against the buildspec text.
const LITERALS: &[&str] = &["$(touch /tmp/pwned)", "`id`", "\"; rm -rf /", "'$HOME'"];

fn yaml_string(value: &str) -> String {
    serde_json::to_string(value).expect("string")
}

#[test]
fn template_values_never_become_buildspec_text() {
    let scratch = Scratch::new("static");
    let marker = scratch.path();
    let mut values: Vec<String> = LITERALS.iter().map(|s| (*s).to_owned()).collect();
    values.extend((0..14).map(|n| hostile(marker, n)));
    let q = |i: usize| yaml_string(&values[i % values.len()]);
    let build_args: String = (0..values.len())
        .map(|i| format!("        APP_{i}: {}\n", q(i)))
        .collect();
    let yaml = format!(
        r#"Resources:
  Hostile:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {{S3Bucket: {bucket}, S3Key: {key}, S3ObjectVersion: {version}}}
      Dockerfile: {dockerfile}
      Target: {target}
      Repository: {{ExistingRepositoryName: {repo}}}
      DockerLoginSecretArn: {login}
      BuildLogs: {{LogGroupName: {group}}}
      BuildSecrets: {{npmrc: {secret1}, token: {secret2}}}
      BuildArgs:
{build_args}  Inline:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {{Dockerfile: {inline}}}
      Repository: {{RepositoryName: inline-repo, KmsKeyArn: {kms}}}
"#,
        bucket = q(0),
        key = q(1),
        version = q(2),
        dockerfile = q(3),
        target = q(4),
        repo = q(5),
        login = q(6),
        group = q(7),
        secret1 = q(8),
        secret2 = q(9),
        inline = yaml_string(&format!("FROM alpine\nRUN {}\n", values[10])),
        kms = q(11),
    );
    let template = expanded(&yaml);
    for id in ["Hostile", "Inline"] {
        let spec = buildspec_text(&template, id);
        for value in &values {
            assert!(
                !spec.contains(value.as_str()),
                "{id}: BuildSpec contains the template value {value:?}:\n{spec}"
            );
        }
        for fragment in [
            "pwned",
            "rm -rf",
            "`id`",
            "$HOME",
            "touch",
            marker.to_str().unwrap_or("/"),
        ] {
            assert!(
                !spec.contains(fragment),
                "{id}: BuildSpec contains {fragment:?}:\n{spec}"
            );
        }
        for (name, script) in project_variables(&template, id) {
            assert!(
                !script.contains("pwned"),
                "project variable {name} holds a template value"
            );
        }
    }
    // The values are there, as data, in the triggers' other properties.
    let mut data = Value::Object(Map::new());
    for id in ["Hostile", "Inline"] {
        let mut properties = trigger(&template, id).clone();
        properties.remove("BuildSpec");
        data[id] = Value::Object(properties);
    }
    let data = data.to_string();
    for (i, value) in values.iter().enumerate().take(12) {
        let encoded = serde_json::to_string(value).expect("string");
        let encoded = &encoded[1..encoded.len() - 1];
        assert!(
            data.contains(encoded),
            "value {i} {value:?} is not carried as data by the trigger"
        );
    }
    // The build-arg names are the only per-image text, and they are the validated names.
    let spec = buildspec_text(&template, "Hostile");
    for i in 0..values.len() {
        assert!(
            spec.contains(&format!("--build-arg APP_{i}")),
            "APP_{i} missing"
        );
    }
}

#[test]
fn a_hostile_image_tag_is_refused_not_written() {
    for tag in LITERALS {
        let yaml = format!(
            "Resources:\n  A:\n    Type: Custom::ContainerImageBuild\n    Properties:\n      Source: {{S3Bucket: b, S3Key: k}}\n      ImageTag: {}\n",
            yaml_string(tag)
        );
        let template = parse_yaml(&yaml).expect("parses");
        let outcome = expand(&template, &ExpandOptions::default());
        assert!(outcome.template.is_none(), "ImageTag {tag:?} was accepted");
        assert!(
            outcome
                .findings
                .iter()
                .any(|f| f.id == ids::SCHEMA && f.path == "Resources.A.Properties.ImageTag"),
            "ImageTag {tag:?}: {:?}",
            outcome.findings
        );
    }
}

/// A fake `docker` (and `aws`) that records each call's argv, one element per line, after a
/// `--call--` line, what `--password-stdin` reads, and the values of the variables named in
/// `FAKE_DOCKER_SHOW`.
const FAKE_DOCKER: &str = r#"#!/usr/bin/env bash
{
  printf '%s\n' --call--
  printf '%s\n' "$@"
} >> "$FAKE_DOCKER_LOG"
for arg in "$@"; do
  if [ "$arg" = --password-stdin ]; then
    printf '%s\n' "$(cat)" >> "$FAKE_DOCKER_STDIN"
  fi
done
if [ "${1:-}" = buildx ] && [ "${2:-}" = build ]; then
  for name in $FAKE_DOCKER_SHOW; do
    printf '%s=%s\n' "$name" "$(printenv "$name")" >> "$FAKE_DOCKER_ENV"
  done
fi
exit 0
"#;

const FAKE_AWS: &str = r#"#!/usr/bin/env bash
printf '%s\n' fake-password
"#;

/// A fake `curl` that records its argv, one element per line.
const FAKE_CURL: &str = r#"#!/usr/bin/env bash
printf '%s\n' "$@" > "$FAKE_CURL_LOG"
exit 0
"#;

/// The recorded calls, each a list of argv elements.
fn calls(log: &Path) -> Vec<Vec<String>> {
    let text = fs::read_to_string(log).unwrap_or_default();
    let mut out: Vec<Vec<String>> = Vec::new();
    for line in text.lines() {
        if line == "--call--" {
            out.push(Vec::new());
        } else if let Some(call) = out.last_mut() {
            call.push(line.to_owned());
        }
    }
    out
}

fn install_fakes(bin: &Path) {
    fs::create_dir_all(bin).expect("bin dir");
    for (name, body) in [
        ("docker", FAKE_DOCKER),
        ("aws", FAKE_AWS),
        ("curl", FAKE_CURL),
    ] {
        let path = bin.join(name);
        fs::write(&path, body).expect("write fake");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod fake");
    }
}

/// Runs `command` the way CodeBuild runs a buildspec command (`env.shell: bash`), with
/// `env` on top of a minimal environment and the fakes first on PATH.
fn run_phase(command: &str, env: &BTreeMap<String, String>, bin: &Path) -> std::process::Output {
    let path = format!("{}:/usr/bin:/bin", bin.display());
    Command::new("bash")
        .arg("-c")
        .arg(command)
        .env_clear()
        .env("PATH", path)
        .envs(env)
        .output()
        .expect("run bash")
}

fn pwned_files(marker: &Path) -> Vec<String> {
    let mut found: Vec<String> = fs::read_dir(marker)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.contains("pwned"))
                .collect()
        })
        .unwrap_or_default();
    if Path::new("/tmp/pwned").exists() {
        found.push("/tmp/pwned".into());
    }
    found
}

#[test]
fn hostile_values_reach_docker_as_single_arguments_and_run_nothing() {
    let scratch = Scratch::new("runtime");
    let marker = scratch.path().join("markers");
    fs::create_dir_all(&marker).expect("marker dir");
    let src = scratch.path().join("src");
    fs::create_dir_all(&src).expect("src dir");
    let bin = scratch.path().join("bin");
    install_fakes(&bin);
    let log = scratch.path().join("docker.log");
    let env_log = scratch.path().join("docker.env");

    // The image as the engine expands it: three build args, two secrets, a target.
    let yaml = r#"Resources:
  Api:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {S3Bucket: b, S3Key: k}
      Target: runtime
      BuildArgs: {APP_ONE: x, APP_TWO: y, APP_THREE: z}
      BuildSecrets: {npmrc: 'arn:aws:secretsmanager:us-east-1:1:secret:a', tok: 'arn:aws:secretsmanager:us-east-1:1:secret:b'}
"#;
    let template = expanded(yaml);
    let scripts = project_variables(&template, "Api");
    let all = commands(&template, "Api");
    let build: Vec<&str> = all
        .iter()
        .filter(|(phase, _)| phase == "build")
        .map(|(_, c)| c.as_str())
        .collect();
    assert_eq!(build.len(), 1, "one build command: {build:?}");
    let login: Vec<&str> = all
        .iter()
        .filter(|(phase, _)| phase == "pre_build")
        .map(|(_, c)| c.as_str())
        .collect();

    // What the provider would set: every value hostile.
    let mut n = 0;
    let mut next = || {
        n += 1;
        hostile(&marker, n)
    };
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    for (name, script) in &scripts {
        env.insert(name.clone(), script.clone());
    }
    let platform = next();
    let dockerfile = next();
    let target = next();
    let image_uri = next();
    let repository_uri = next();
    let compression = next();
    let registry = next();
    let secret_ids = [next(), next()];
    let args = [next(), next(), next()];
    env.insert("CIB_PLATFORM".into(), platform.clone());
    env.insert("CIB_DOCKERFILE".into(), dockerfile.clone());
    env.insert("CIB_TARGET".into(), target.clone());
    env.insert("CIB_IMAGE_URI".into(), image_uri.clone());
    env.insert("CIB_IMAGE_TAG".into(), next());
    env.insert("CIB_REPOSITORY_URI".into(), repository_uri.clone());
    env.insert("CIB_REGISTRY".into(), registry.clone());
    env.insert("CIB_COMPRESSION".into(), compression.clone());
    env.insert("CIB_REPLICA_REGIONS".into(), next());
    let builder_image = next();
    let cache_ref = next();
    env.insert("CIB_BUILDER_IMAGE".into(), builder_image.clone());
    env.insert("CIB_CACHE_REF".into(), cache_ref.clone());
    env.insert("AWS_REGION".into(), next());
    env.insert("CODEBUILD_SRC_DIR".into(), src.display().to_string());
    env.insert("CIB_SECRET_ID_0".into(), secret_ids[0].clone());
    env.insert("CIB_SECRET_ID_1".into(), secret_ids[1].clone());
    env.insert("CIB_SECRET_0".into(), next());
    env.insert("CIB_SECRET_1".into(), next());
    for (name, value) in ["APP_ONE", "APP_TWO", "APP_THREE"].iter().zip(&args) {
        env.insert((*name).to_owned(), value.clone());
    }
    env.insert("FAKE_DOCKER_LOG".into(), log.display().to_string());
    env.insert("FAKE_DOCKER_ENV".into(), env_log.display().to_string());
    let stdin_log = scratch.path().join("docker.stdin");
    env.insert("FAKE_DOCKER_STDIN".into(), stdin_log.display().to_string());
    env.insert(
        "FAKE_DOCKER_SHOW".into(),
        "APP_ONE APP_TWO APP_THREE CIB_SECRET_0 CIB_SECRET_1".into(),
    );

    for command in login.iter().chain(&build) {
        let out = run_phase(command, &env, &bin);
        assert!(
            out.status.success(),
            "{command:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(
        pwned_files(&marker).is_empty(),
        "a hostile value was run as shell: {:?}",
        pwned_files(&marker)
    );

    let calls = calls(&log);
    let login_call = vec![
        "login".to_owned(),
        "--username".into(),
        "AWS".into(),
        "--password-stdin".into(),
        registry.clone(),
    ];
    assert!(
        calls.contains(&login_call),
        "no registry login as expected: {calls:#?}"
    );
    let create = calls.iter().find(|c| {
        c.first().map(String::as_str) == Some("buildx")
            && c.get(1).map(String::as_str) == Some("create")
    });
    let create = create.unwrap_or_else(|| panic!("no buildx builder created: {calls:#?}"));
    let driver_opt = create
        .iter()
        .position(|a| a == "--driver-opt")
        .and_then(|i| create.get(i + 1));
    assert_eq!(
        driver_opt,
        Some(&format!("image={builder_image}")),
        "the builder runs the support stack's image, not Docker Hub's: {create:?}"
    );
    let builds: Vec<&Vec<String>> = calls
        .iter()
        .filter(|c| {
            c.first().map(String::as_str) == Some("buildx")
                && c.get(1).map(String::as_str) == Some("build")
        })
        .collect();
    assert_eq!(builds.len(), 1, "one docker buildx build: {calls:#?}");
    let cache = format!("type=registry,ref={cache_ref}");
    let src_dir = src.display().to_string();
    let mut expected: Vec<String> = vec![
        "buildx".into(),
        "build".into(),
        "--platform".into(),
        platform.clone(),
        "--provenance=false".into(),
        "--sbom=false".into(),
        "--file".into(),
        format!("{src_dir}/{dockerfile}"),
        "--tag".into(),
        image_uri.clone(),
        "--target".into(),
        target.clone(),
    ];
    for name in ["APP_ONE", "APP_TWO", "APP_THREE"] {
        expected.push("--build-arg".into());
        expected.push(name.into());
    }
    for (i, id) in secret_ids.iter().enumerate() {
        expected.push("--secret".into());
        expected.push(format!("id={id},env=CIB_SECRET_{i}"));
    }
    expected.extend([
        "--output".into(),
        format!("type=image,push=true,compression={compression},force-compression=true"),
        "--cache-from".into(),
        cache.clone(),
        "--cache-to".into(),
        format!("{cache},mode=max,image-manifest=true,oci-mediatypes=true"),
        src_dir,
    ]);
    assert_eq!(builds[0], &expected, "docker buildx build argv");

    // Build-arg values reach docker through its environment, unchanged.
    let seen = fs::read_to_string(&env_log).unwrap_or_default();
    for (name, value) in ["APP_ONE", "APP_TWO", "APP_THREE"].iter().zip(&args) {
        assert!(
            seen.lines().any(|line| line == format!("{name}={value}")),
            "{name} did not reach docker's environment unchanged: {seen}"
        );
    }
    // The test did exercise the hostile values: one appears in argv verbatim.
    assert!(builds[0].contains(&platform) && platform.contains("touch"));
}

#[test]
fn hostile_inline_dockerfile_and_login_secret_stay_data() {
    let scratch = Scratch::new("inline");
    let marker = scratch.path().join("markers");
    fs::create_dir_all(&marker).expect("marker dir");
    let bin = scratch.path().join("bin");
    install_fakes(&bin);
    let log = scratch.path().join("docker.log");
    let yaml = r#"Resources:
  Api:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {Dockerfile: "FROM scratch\n"}
      Compression: zstd
      CacheDisabled: true
      DockerLoginSecretArn: arn:aws:secretsmanager:us-east-1:1:secret:hub
"#;
    let template = expanded(yaml);
    let scripts = project_variables(&template, "Api");
    let all = commands(&template, "Api");
    let mut env: BTreeMap<String, String> = scripts.into_iter().collect();
    let inline = format!("FROM scratch\nRUN {}\n", hostile(&marker, 0));
    let user = hostile(&marker, 1);
    let password = hostile(&marker, 2);
    let server = hostile(&marker, 3);
    env.insert("CIB_INLINE_DOCKERFILE_GZ".into(), gzip_base64(&inline));
    env.insert(
        "CIB_BUILDER_IMAGE".into(),
        "1.dkr.ecr.us-east-1.amazonaws.com/cib-tools/buildkit@sha256:0".into(),
    );
    env.insert("CIB_PLATFORM".into(), "linux/amd64".into());
    env.insert(
        "CIB_IMAGE_URI".into(),
        "1.dkr.ecr.us-east-1.amazonaws.com/r:t".into(),
    );
    env.insert(
        "CIB_REPOSITORY_URI".into(),
        "1.dkr.ecr.us-east-1.amazonaws.com/r".into(),
    );
    env.insert(
        "CIB_REGISTRY".into(),
        "1.dkr.ecr.us-east-1.amazonaws.com".into(),
    );
    env.insert("CIB_COMPRESSION".into(), "zstd".into());
    env.insert("CIB_CACHE_DISABLED".into(), "true".into());
    env.insert("AWS_REGION".into(), "us-east-1".into());
    env.insert(
        "CIB_DOCKER_LOGIN_SECRET".into(),
        json!({"username": user, "password": password, "server": server}).to_string(),
    );
    env.insert("FAKE_DOCKER_LOG".into(), log.display().to_string());
    env.insert(
        "FAKE_DOCKER_ENV".into(),
        scratch.path().join("env").display().to_string(),
    );
    env.insert("FAKE_DOCKER_SHOW".into(), String::new());
    let stdin_log = scratch.path().join("stdin");
    env.insert("FAKE_DOCKER_STDIN".into(), stdin_log.display().to_string());
    env.insert("TMPDIR".into(), scratch.path().display().to_string());
    for (phase, command) in &all {
        if phase == "pre_build" || phase == "build" {
            let out = run_phase(command, &env, &bin);
            assert!(
                out.status.success(),
                "{command:?} failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    assert!(
        pwned_files(&marker).is_empty(),
        "{:?}",
        pwned_files(&marker)
    );
    let calls = calls(&log);
    let hub_login = vec![
        "login".to_owned(),
        "--username".into(),
        user.clone(),
        "--password-stdin".into(),
        server.clone(),
    ];
    assert!(
        calls.contains(&hub_login),
        "no login with the secret's values: {calls:#?}"
    );
    let passwords = fs::read_to_string(&stdin_log).unwrap_or_default();
    assert!(
        passwords.lines().any(|line| line == password),
        "the password did not reach docker login's stdin unchanged: {passwords:?}"
    );
    let build = calls
        .iter()
        .find(|c| c.get(1).map(String::as_str) == Some("build"))
        .unwrap_or_else(|| panic!("no build: {calls:#?}"));
    let file = build
        .iter()
        .position(|a| a == "--file")
        .and_then(|i| build.get(i + 1))
        .expect("--file");
    // The inline Dockerfile was written to the file docker reads, byte for byte.
    let written = fs::read_to_string(file).unwrap_or_default();
    assert_eq!(written, inline);
    assert!(
        !build.iter().any(|a| a.starts_with("--cache")),
        "cache disabled: {build:?}"
    );
    assert!(
        build
            .iter()
            .any(|a| a.ends_with(",oci-mediatypes=true") && a.contains("compression=zstd")),
        "zstd output: {build:?}"
    );
    // The inline Dockerfile is not in the buildspec either.
    assert!(!to_yaml(&template).contains("RUN $(touch"));
}

/// `text` gzip-compressed and base64-encoded, as the provider sends an inline Dockerfile
/// (`CIB_INLINE_DOCKERFILE_GZ`), made with the system's gzip and base64.
fn gzip_base64(text: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("bash")
        .arg("-c")
        .arg("gzip -c | base64 -w0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip and base64 run");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write to gzip");
    let out = child.wait_with_output().expect("gzip output");
    assert!(out.status.success());
    String::from_utf8(out.stdout).expect("base64 is ASCII")
}

#[test]
fn a_build_without_a_builder_image_fails_before_pulling_anything() {
    let scratch = Scratch::new("no-builder");
    let bin = scratch.path().join("bin");
    install_fakes(&bin);
    let log = scratch.path().join("docker.log");
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    env.insert("CIB_PLATFORM".into(), "linux/amd64".into());
    env.insert(
        "CIB_IMAGE_URI".into(),
        "1.dkr.ecr.us-east-1.amazonaws.com/r:t".into(),
    );
    env.insert(
        "CIB_REPOSITORY_URI".into(),
        "1.dkr.ecr.us-east-1.amazonaws.com/r".into(),
    );
    env.insert("CIB_BUILDER_IMAGE".into(), String::new());
    env.insert("FAKE_DOCKER_LOG".into(), log.display().to_string());
    env.insert(
        "CODEBUILD_SRC_DIR".into(),
        scratch.path().display().to_string(),
    );
    let script = include_str!("../assets/build.sh");
    let out = run_phase(script, &env, &bin);
    assert!(!out.status.success(), "must fail without a builder image");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("CIB_BUILDER_IMAGE is empty"), "{stderr}");
    assert!(
        calls(&log).is_empty(),
        "docker must not run: {:#?}",
        calls(&log)
    );
}

#[test]
fn hostile_response_details_stay_data_in_the_final_phase() {
    let scratch = Scratch::new("respond");
    let marker = scratch.path().join("markers");
    fs::create_dir_all(&marker).expect("marker dir");
    let bin = scratch.path().join("bin");
    install_fakes(&bin);
    let curl_log = scratch.path().join("curl.log");
    let template = expanded(
        "Resources:\n  Api:\n    Type: Custom::ContainerImageBuild\n    Properties:\n      Source: {S3Bucket: b, S3Key: k}\n",
    );
    let mut env: BTreeMap<String, String> =
        project_variables(&template, "Api").into_iter().collect();
    // CloudFormation's response bucket (respond.sh answers no other host), hostile path.
    let url = format!(
        "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/{}",
        hostile(&marker, 0)
    );
    env.insert("AWS_REGION".into(), "us-east-1".into());
    let stack = hostile(&marker, 1);
    let request = hostile(&marker, 2);
    let logical = hostile(&marker, 3);
    let physical = hostile(&marker, 4);
    env.insert("CIB_RESPONSE_URL".into(), url.clone());
    env.insert("CIB_STACK_ID".into(), stack.clone());
    env.insert("CIB_REQUEST_ID".into(), request.clone());
    env.insert("CIB_LOGICAL_ID".into(), logical.clone());
    env.insert("CIB_PHYSICAL_ID".into(), physical.clone());
    env.insert("CIB_REPOSITORY_URI".into(), hostile(&marker, 5));
    env.insert("CIB_IMAGE_TAG".into(), hostile(&marker, 6));
    env.insert("CODEBUILD_BUILD_SUCCEEDING".into(), "0".into());
    env.insert("CODEBUILD_BUILD_ID".into(), hostile(&marker, 7));
    env.insert("FAKE_CURL_LOG".into(), curl_log.display().to_string());
    let post_build: Vec<String> = commands(&template, "Api")
        .into_iter()
        .filter(|(phase, _)| phase == "post_build")
        .map(|(_, command)| command)
        .collect();
    assert!(!post_build.is_empty(), "no post_build command");
    for command in &post_build {
        let out = run_phase(command, &env, &bin);
        assert!(
            out.status.success(),
            "{command:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(
        pwned_files(&marker).is_empty(),
        "{:?}",
        pwned_files(&marker)
    );
    let argv = fs::read_to_string(&curl_log).unwrap_or_default();
    let argv: Vec<&str> = argv.lines().collect();
    assert_eq!(
        argv.last().copied(),
        Some(url.as_str()),
        "curl URL: {argv:?}"
    );
    let body = argv
        .iter()
        .position(|a| *a == "--data-binary")
        .and_then(|i| argv.get(i + 1))
        .unwrap_or_else(|| panic!("no --data-binary: {argv:?}"));
    let body: Value = serde_json::from_str(body).expect("the response body is JSON");
    assert_eq!(body["Status"], "FAILED");
    assert_eq!(body["StackId"], stack.as_str());
    assert_eq!(body["RequestId"], request.as_str());
    assert_eq!(body["LogicalResourceId"], logical.as_str());
    assert_eq!(body["PhysicalResourceId"], physical.as_str());
}

#[test]
fn a_missing_or_damaged_script_fails_its_phase() {
    // The scripts ride gzip+base64 in project variables; a value that does not decode must
    // fail the command (an empty `bash -c ""` would succeed and skip the build silently).
    let scratch = Scratch::new("damaged");
    let bin = scratch.path().join("bin");
    install_fakes(&bin);
    let template = expanded(
        "Resources:\n  Api:\n    Type: Custom::ContainerImageBuild\n    Properties:\n      Source: {S3Bucket: b, S3Key: k}\n",
    );
    let all = commands(&template, "Api");
    let scripts = project_variables(&template, "Api");
    for (phase, command) in &all {
        let variable = [
            "CIB_LOGIN_SCRIPT_GZ",
            "CIB_BUILD_SCRIPT_GZ",
            "CIB_RESPOND_SCRIPT_GZ",
        ]
        .into_iter()
        .find(|v| command.contains(v))
        .unwrap_or_else(|| panic!("{phase}: {command:?} runs no shared script"));
        let intact = scripts.get(variable).cloned().unwrap_or_default();
        let truncated: String = intact.chars().take(intact.len() / 2).collect();
        for (what, value) in [
            ("missing", None),
            ("empty", Some(String::new())),
            ("not base64", Some("%%%not base64%%%".to_owned())),
            ("truncated", Some(truncated)),
        ] {
            let mut env = BTreeMap::new();
            if let Some(value) = value {
                env.insert(variable.to_owned(), value);
            }
            let out = run_phase(command, &env, &bin);
            assert!(
                !out.status.success(),
                "{phase} succeeded with a {what} {variable}:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// `PullFromRepositories`: before the build, the login phase logs in to each registry the
/// template pulls base images from (another region, another account), and to the builder
/// image's registry when it is another one, with the DNS suffix of the image's own
/// registry.
#[test]
fn base_image_registries_are_logged_in_before_the_build() {
    let scratch = Scratch::new("pull");
    let bin = scratch.path().join("bin");
    install_fakes(&bin);
    let log = scratch.path().join("docker.log");
    let yaml = r#"Resources:
  Api:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {S3Bucket: b, S3Key: k}
      PullFromRepositories:
        - arn:aws:ecr:eu-west-1:111122223333:repository/base/*
        - arn:aws:ecr:us-east-1:444455556666:repository/tools
"#;
    let template = expanded(yaml);
    let mut env = project_variables(&template, "Api");
    assert_eq!(
        env.get("CIB_PULL_REGISTRIES").map(String::as_str),
        Some("eu-west-1:111122223333 us-east-1:444455556666")
    );
    env.insert(
        "CIB_REGISTRY".into(),
        "123456789012.dkr.ecr.us-east-1.amazonaws.com".into(),
    );
    env.insert("AWS_REGION".into(), "us-east-1".into());
    // The support stack's builder image, from a tools account in another region.
    env.insert(
        "CIB_BUILDER_IMAGE".into(),
        format!(
            "999988887777.dkr.ecr.eu-central-1.amazonaws.com/cib-tools/buildkit@sha256:{}",
            "a".repeat(64)
        ),
    );
    env.insert("FAKE_DOCKER_LOG".into(), log.display().to_string());
    env.insert(
        "FAKE_DOCKER_ENV".into(),
        scratch.path().join("env").display().to_string(),
    );
    env.insert(
        "FAKE_DOCKER_STDIN".into(),
        scratch.path().join("stdin").display().to_string(),
    );
    let all = commands(&template, "Api");
    let login = all
        .iter()
        .find(|(phase, _)| phase == "pre_build")
        .map(|(_, c)| c.clone())
        .expect("a login command");
    let out = run_phase(&login, &env, &bin);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let logged_in: Vec<String> = calls(&log)
        .into_iter()
        .filter(|c| c.first().map(String::as_str) == Some("login"))
        .filter_map(|c| c.last().cloned())
        .collect();
    assert_eq!(
        logged_in,
        [
            "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            "111122223333.dkr.ecr.eu-west-1.amazonaws.com",
            "444455556666.dkr.ecr.us-east-1.amazonaws.com",
            "999988887777.dkr.ecr.eu-central-1.amazonaws.com"
        ]
    );
    // The role may pull exactly those repositories.
    let statements = template["Resources"]["ContainerImageBuildRole"]["Properties"]["Policies"][0]
        ["PolicyDocument"]["Statement"]
        .as_array()
        .expect("statements")
        .clone();
    let pull = statements
        .iter()
        .find(|s| s["Sid"] == "PullBaseImages")
        .expect("a PullBaseImages statement");
    assert_eq!(
        pull["Resource"],
        serde_json::json!([
            "arn:aws:ecr:eu-west-1:111122223333:repository/base/*",
            "arn:aws:ecr:us-east-1:444455556666:repository/tools"
        ])
    );
}
