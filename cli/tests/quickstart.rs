//! The README's quick start, run as written against moto's server on 127.0.0.1.
//!
//! `scripts/build-lambdas.sh` is not run (cargo-lambda and a cross toolchain are not CI's
//! business): `CARGO_TARGET_DIR` points at a directory holding stand-in zips where the
//! script leaves the real ones, so `cib bootstrap` finds them by its default. moto cannot
//! run the provider Lambda, so the last, executing deploy is run with `--no-execute`; the
//! builder image bootstrap copies comes from a local registry instead of Docker Hub.

mod common;

use std::fs;

use cib_testkit::MotoServer;

const BEGIN: &str = "<!-- quickstart:begin -->";
const END: &str = "<!-- quickstart:end -->";

/// The `cib` command lines of the quick start, comments removed.
fn quick_start() -> Vec<Vec<String>> {
    let readme = fs::read_to_string(common::repo_root().join("README.md"))
        .unwrap_or_else(|e| panic!("README.md: {e}"));
    let start = readme.find(BEGIN).unwrap_or_else(|| panic!("no {BEGIN}"));
    let end = readme.find(END).unwrap_or_else(|| panic!("no {END}"));
    let block = readme.get(start..end).unwrap_or_default();
    block
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|line| line.starts_with("cib "))
        .map(|line| line.split_whitespace().skip(1).map(str::to_owned).collect())
        .collect()
}

#[test]
fn the_readme_quick_start_runs_against_moto() {
    let commands = quick_start();
    assert_eq!(
        commands.len(),
        3,
        "bootstrap, preview, deploy: {commands:?}"
    );
    let moto = MotoServer::start();
    let target = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // Bootstrap copies the pinned BuildKit image into ECR; offline, a local registry
    // serves a stand-in for it.
    let registry = cib_testkit::oci_registry::LocalRegistry::start();
    let (builder_source, _) = common::serve_builder_image(&registry, target.path());
    for name in ["bootstrap", "cib-provider"] {
        let dir = target.path().join("lambda").join(name);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        fs::write(dir.join("bootstrap.zip"), format!("stand-in for {name}"))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    for (index, args) in commands.iter().enumerate() {
        let mut command = common::cib();
        command
            .args(args)
            .args(["--poll-seconds", "1"])
            .envs(common::deployer_env(&moto, "us-east-1"))
            .env("CARGO_TARGET_DIR", target.path())
            .env("AWS_CONFIG_FILE", "/nonexistent/cib-test-config")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/cib-test-credentials",
            );
        if args.first().map(String::as_str) == Some("bootstrap") {
            command.args(["--builder-source", &builder_source]);
        }
        if index == commands.len() - 1 && !args.iter().any(|a| a == "--no-execute") {
            command.arg("--no-execute");
        }
        let output = command
            .output()
            .unwrap_or_else(|e| panic!("cannot run cib: {e}"));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "cib {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
            args.join(" ")
        );
        if args.first().map(String::as_str) == Some("deploy") {
            assert!(stdout.contains("+ ApiImageRepository"), "{stdout}");
            assert!(stdout.contains("+ ApiFunction"), "{stdout}");
            assert!(stderr.contains("ApiImage: ./api"), "{stderr}");
        }
    }
}
