//! The per-image buildspec, handed to StartBuild as `buildspecOverride`.
//!
//! Invariant: no template value is ever written into this text. Values reach the build
//! as environment variables set by the provider; the only per-image text is the list of
//! build-argument names (validated identifiers), the secret slots and the user's own
//! commands, which are shell by definition. The shared scripts (login, build, respond)
//! live once per CodeBuild project in its environment variables, gzip+base64
//! ([`super::packed`]) so each value stays within CodeBuild's 4096 characters, and 200
//! images do not carry 200 copies of them.

use std::sync::LazyLock;

use serde_json::{Value, json};

use super::packed::gzip_base64;
use crate::spec::ImageSpec;
use crate::template::to_yaml;

/// Logs in to the registries the build pulls from and pushes to.
pub const LOGIN_SCRIPT: &str = include_str!("../../assets/login.sh");
/// Builds and pushes the image.
pub const BUILD_SCRIPT: &str = include_str!("../../assets/build.sh");
/// Answers CloudFormation at the end of the build.
pub const RESPOND_SCRIPT: &str = include_str!("../../assets/respond.sh");

/// The vulnerability gate, run by the respond script for an image with `Scan`.
pub const SCAN_SCRIPT: &str = include_str!("../../assets/scan.sh");

/// Project variable that carries the login script (gzip+base64).
pub const LOGIN_SCRIPT_VARIABLE: &str = "CIB_LOGIN_SCRIPT_GZ";
/// Project variable that carries the build script (gzip+base64).
pub const BUILD_SCRIPT_VARIABLE: &str = "CIB_BUILD_SCRIPT_GZ";
/// Project variable that carries the respond script (gzip+base64).
pub const RESPOND_SCRIPT_VARIABLE: &str = "CIB_RESPOND_SCRIPT_GZ";

/// Project variable that carries the vulnerability gate's script (gzip+base64); only
/// projects that build an image with `Scan` have it.
pub const SCAN_SCRIPT_VARIABLE: &str = "CIB_SCAN_SCRIPT_GZ";

/// The project environment variables that carry the shared scripts, with each script's
/// text (before compression).
pub const SCRIPT_VARIABLES: &[(&str, &str)] = &[
    (LOGIN_SCRIPT_VARIABLE, LOGIN_SCRIPT),
    (BUILD_SCRIPT_VARIABLE, BUILD_SCRIPT),
    (RESPOND_SCRIPT_VARIABLE, RESPOND_SCRIPT),
];

/// A shared script as it rides in its variable: without its comment lines (they document
/// the source file; the build does not need them), so the packed value stays within
/// CodeBuild's 4096 characters. The scripts hold no heredoc or multi-line string whose
/// lines start with `#`.
pub fn packed_script(script: &str) -> String {
    gzip_base64(&script_code(script))
}

/// A shared script without its comment lines: the text the build runs.
pub fn script_code(script: &str) -> String {
    let code: Vec<&str> = script
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .collect();
    code.join("\n")
}

static PACKED_SCRIPTS: LazyLock<Vec<(&'static str, String)>> = LazyLock::new(|| {
    SCRIPT_VARIABLES
        .iter()
        .map(|(name, script)| (*name, packed_script(script)))
        .collect()
});

static PACKED_SCAN_SCRIPT: LazyLock<String> = LazyLock::new(|| packed_script(SCAN_SCRIPT));

/// The project environment variables that carry the shared scripts, with their values
/// (gzip+base64 of each script), computed once.
pub fn packed_script_variables() -> &'static [(&'static str, String)] {
    PACKED_SCRIPTS.as_slice()
}

/// The value of [`SCAN_SCRIPT_VARIABLE`] (gzip+base64 of the gate's script), computed once.
pub fn packed_scan_script() -> &'static str {
    PACKED_SCAN_SCRIPT.as_str()
}

/// The shell words that run the script carried in `variable` with bash: it is decoded
/// inside the build, never spliced into this text. The script runs only when the whole
/// value decoded (gunzip checks the length and CRC), so a missing, empty or damaged value
/// fails its phase instead of running nothing, or half a script.
pub fn run_script(variable: &str) -> String {
    format!(
        "cib_script=$(printf '%s' \"${variable}\" | base64 -d | gunzip) && bash -c \"$cib_script\""
    )
}

/// Environment variable that carries the id of build secret `index`.
pub fn secret_id_variable(index: usize) -> String {
    format!("CIB_SECRET_ID_{index}")
}

/// Environment variable that carries the value of build secret `index`.
pub fn secret_value_variable(index: usize) -> String {
    format!("CIB_SECRET_{index}")
}

/// The build-phase command: the build script with the image's build-argument names
/// and secret slots as its arguments.
pub fn build_command(image: &ImageSpec) -> String {
    let mut command = run_script(BUILD_SCRIPT_VARIABLE);
    command.push_str(" cib-build");
    for (name, _) in &image.build_args {
        command.push_str(" --build-arg ");
        command.push_str(name);
    }
    for i in 0..image.build_secrets.len() {
        command.push_str(&format!(
            " --secret \"id=${{{}}},env={}\"",
            secret_id_variable(i),
            secret_value_variable(i)
        ));
    }
    command
}

/// The buildspec document for `image`.
pub fn document(image: &ImageSpec) -> Value {
    let mut phases = serde_json::Map::new();
    if !image.install_commands.is_empty() {
        phases.insert(
            "install".into(),
            json!({"commands": image.install_commands}),
        );
    }
    let mut pre_build = vec![json!(run_script(LOGIN_SCRIPT_VARIABLE))];
    pre_build.extend(image.pre_build_commands.iter().cloned().map(Value::String));
    phases.insert("pre_build".into(), json!({"commands": pre_build}));
    phases.insert("build".into(), json!({"commands": [build_command(image)]}));
    phases.insert(
        "post_build".into(),
        json!({"commands": [run_script(RESPOND_SCRIPT_VARIABLE)]}),
    );
    json!({
        "version": 0.2,
        "env": {"shell": "bash"},
        "phases": phases
    })
}

/// The buildspec as YAML text.
pub fn text(image: &ImageSpec) -> String {
    to_yaml(&document(image))
}
