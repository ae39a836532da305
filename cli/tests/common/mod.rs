//! Helpers shared by the integration tests: the built `cib` binary, the samples,
//! and the cfn-lint of the project's Python venv.

#![allow(dead_code)] // each test binary uses its own subset

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ has a parent")
        .to_owned()
}

/// The stack region every sample is expanded for (replicas are in other regions).
pub const REGION: &str = "us-east-1";

/// The `cib` binary with no region in its environment, run from the repository root.
pub fn cib() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cib"));
    command
        .current_dir(repo_root())
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION");
    command
}

/// The access key `cib`'s requests are signed with in the tests: the strict layer
/// authorizes them against `deploy/deployer-policy.json`, the policy the README gives a
/// deployer for `cib`'s own calls.
pub const DEPLOYER_ACCESS_KEY: &str = "AKIADEPLOYERTESTKEY1";

/// The deployer policy (`deploy/deployer-policy.json`).
pub fn deployer_policy() -> serde_json::Value {
    let text = fs::read_to_string(repo_root().join("deploy/deployer-policy.json"))
        .expect("deploy/deployer-policy.json");
    serde_json::from_str(&text).expect("the deployer policy is JSON")
}

/// moto's environment for `cib`, signed as the deployer, whose policy the strict layer
/// then enforces.
pub fn deployer_env(moto: &cib_testkit::MotoServer, region: &str) -> Vec<(String, String)> {
    moto.enforce(DEPLOYER_ACCESS_KEY, "Deployer", vec![deployer_policy()]);
    moto.sdk_env_signed_as(region, DEPLOYER_ACCESS_KEY)
}

/// `cib` pointed at `moto` (in [`REGION`]) through the standard AWS environment variables
/// only: no config or credentials file, no profile; signed as the deployer.
pub fn cib_on(moto: &cib_testkit::MotoServer) -> Command {
    let mut command = cib();
    command
        .envs(deployer_env(moto, REGION))
        .env("AWS_CONFIG_FILE", "/nonexistent/cib-test-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/cib-test-credentials",
        )
        .env_remove("AWS_PROFILE");
    command
}

/// A current-thread runtime and an SDK configuration pointed at `moto` in [`REGION`], for
/// a test's own set-up calls.
pub fn sdk_on(moto: &cib_testkit::MotoServer) -> (tokio::runtime::Runtime, aws_config::SdkConfig) {
    sdk_in(moto, REGION)
}

/// [`sdk_on`] in `region`.
pub fn sdk_in(
    moto: &cib_testkit::MotoServer,
    region: &str,
) -> (tokio::runtime::Runtime, aws_config::SdkConfig) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let config = runtime.block_on(
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_owned()))
            .endpoint_url(moto.endpoint())
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .load(),
    );
    (runtime, config)
}

/// Runs `command` to its end and returns what it printed.
pub fn run(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run cib: {e}"))
}

/// Bytes as text (lossy).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every sample template (`samples/*.yaml`, `samples/*.json`), sorted by name.
pub fn samples() -> Vec<PathBuf> {
    let dir = repo_root().join("samples");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| matches!(extension(path), "yaml" | "json"))
        .collect();
    found.sort();
    assert!(
        found.len() >= 8,
        "expected at least 8 samples in {}, found {}",
        dir.display(),
        found.len()
    );
    found
}

/// The extension of `path`, or "".
pub fn extension(path: &Path) -> &str {
    path.extension().and_then(|e| e.to_str()).unwrap_or("")
}

/// The file name of `path` as text.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Runs `cib expand SAMPLE --region us-east-1` (output in the sample's own format).
pub fn expand_sample(sample: &Path) -> Output {
    cib()
        .arg("expand")
        .arg(sample)
        .args(["--region", REGION])
        .output()
        .expect("run cib")
}

/// Text of a process's standard output and error, for failure messages.
pub fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `$VAR` when set and non-empty, else `~/.cache/cib/<default>` (where scripts/test.sh puts it).
fn dir_from_env(var: &str, default: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => {
            let home = std::env::var_os("HOME").expect("HOME is set");
            Path::new(&home).join(".cache/cib").join(default)
        }
    }
}

/// The `cfn-lint` of `venv` (named by `$var`). A missing cfn-lint fails the test, never skips it.
fn cfn_lint_in(venv: &Path, var: &str) -> Command {
    let program = venv.join("bin/cfn-lint");
    assert!(
        program.is_file(),
        "cfn-lint not found at {}: run scripts/test.sh, which creates that venv \
         (or set {var} to a venv that has it)",
        program.display()
    );
    Command::new(program)
}

/// The project's Python venv: `$CIB_VENV`, else `~/.cache/cib/venv`.
pub fn venv() -> PathBuf {
    dir_from_env("CIB_VENV", "venv")
}

/// The venv's cfn-lint (the current release), for expanded templates.
pub fn cfn_lint() -> Command {
    cfn_lint_in(&venv(), "CIB_VENV")
}

/// The cfn-lint that applies registry schemas to `Custom::` types (1.42; later releases
/// ignore them), from `$CIB_REGISTRY_LINT_VENV`, else `~/.cache/cib/venv-cfn-lint-1.42`.
pub fn registry_cfn_lint() -> Command {
    let venv = dir_from_env("CIB_REGISTRY_LINT_VENV", "venv-cfn-lint-1.42");
    cfn_lint_in(&venv, "CIB_REGISTRY_LINT_VENV")
}

/// cfn-lint's exit code is a bit mask: 2 = errors, 4 = warnings, 8 = informational.
pub const CFN_LINT_ERROR_BIT: i32 = 2;

/// Fails, with cfn-lint's output, when cfn-lint finds an error in the template at `path`.
pub fn assert_cfn_lint_clean(path: &Path) {
    let lint = cfn_lint()
        .arg("--")
        .arg(path)
        .output()
        .expect("run cfn-lint");
    let code = lint.status.code().unwrap_or(-1);
    assert!(
        code >= 0 && code & CFN_LINT_ERROR_BIT == 0,
        "cfn-lint found errors:\n{}",
        describe(&lint)
    );
}

/// Writes a one-layer OCI image layout (an uncompressed layer, as a builder image might
/// carry a static binary) into `dir`; returns the manifest's digest.
pub fn write_builder_layout(dir: &Path) -> String {
    use cib_registry::Digest;
    use cib_registry::tar::write as tar;
    let mut layer = tar::file("bin/buildkitd", b"#!/bin/sh\necho buildkitd\n");
    layer.extend(tar::end());
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [Digest::of(&layer).as_str()]},
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    let descriptor = |media_type: &str, bytes: &[u8]| serde_json::json!({"mediaType": media_type, "digest": Digest::of(bytes).as_str(), "size": bytes.len()});
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descriptor("application/vnd.oci.image.config.v1+json", &config),
        "layers": [descriptor("application/vnd.oci.image.layer.v1.tar", &layer)],
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    let mut root = descriptor("application/vnd.oci.image.manifest.v1+json", &manifest);
    root["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": "v1"});
    fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
    fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)
        .unwrap_or_else(|e| panic!("{e}"));
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [root]});
    fs::write(dir.join("index.json"), index.to_string()).unwrap_or_else(|e| panic!("{e}"));
    for blob in [&layer, &config, &manifest] {
        let path = dir.join("blobs/sha256").join(Digest::of(blob).hex());
        fs::create_dir_all(path.parent().unwrap_or(dir)).unwrap_or_else(|e| panic!("{e}"));
        fs::write(&path, blob).unwrap_or_else(|e| panic!("{e}"));
    }
    Digest::of(&manifest).as_str().to_owned()
}

/// Serves a stand-in builder image from `registry` (written under `dir`, copied with
/// skopeo, digests preserved); returns its digest-pinned reference and its digest.
pub fn serve_builder_image(
    registry: &cib_testkit::oci_registry::LocalRegistry,
    dir: &Path,
) -> (String, String) {
    let layout = dir.join("builder-layout");
    let digest = write_builder_layout(&layout);
    cib_testkit::oci_registry::skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        "--preserve-digests",
        &format!("oci:{}:v1", layout.display()),
        &format!("docker://{}/moby/buildkit:v1", registry.host),
    ]);
    (
        format!("{}/moby/buildkit:v1@{digest}", registry.host),
        digest,
    )
}
