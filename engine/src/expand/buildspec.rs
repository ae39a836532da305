//! The per-image buildspec, handed to StartBuild as `buildspecOverride`.
//!
//! Invariant: no template value is ever written into this text. Values reach the build
//! as environment variables set by the provider; the only per-image text is the list of
//! build-argument names (validated identifiers), the secret slots and the user's own
//! commands, which are shell by definition.

use serde_json::{Value, json};

use crate::spec::ImageSpec;
use crate::template::to_yaml;

/// Logs in to the registries the build pulls from and pushes to.
pub const LOGIN_SCRIPT: &str = include_str!("../../assets/login.sh");
/// Builds and pushes the image.
pub const BUILD_SCRIPT: &str = include_str!("../../assets/build.sh");
/// Answers CloudFormation at the end of the build.
pub const RESPOND_SCRIPT: &str = include_str!("../../assets/respond.sh");

/// Environment variable that carries the id of build secret `index`.
pub fn secret_id_variable(index: usize) -> String {
    format!("CIB_SECRET_ID_{index}")
}

/// Environment variable that carries the value of build secret `index`.
pub fn secret_value_variable(index: usize) -> String {
    format!("CIB_SECRET_{index}")
}

/// The shell text of the build phase: the argument arrays, then the build script,
/// in a subshell so `set -e` stays local to it.
pub fn build_command(image: &ImageSpec) -> String {
    let build_args: Vec<String> = image
        .build_args
        .iter()
        .map(|(name, _)| format!("--build-arg {name}"))
        .collect();
    let secret_args: Vec<String> = (0..image.build_secrets.len())
        .map(|i| {
            format!(
                "--secret \"id=${{{}}},env={}\"",
                secret_id_variable(i),
                secret_value_variable(i)
            )
        })
        .collect();
    format!(
        "(\nbuild_args=({})\nsecret_args=({})\n{})\n",
        build_args.join(" "),
        secret_args.join(" "),
        BUILD_SCRIPT
    )
}

/// The login command of the pre-build phase.
pub fn login_command() -> String {
    format!("(\n{LOGIN_SCRIPT})\n")
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
    let mut pre_build = vec![Value::String(login_command())];
    pre_build.extend(image.pre_build_commands.iter().cloned().map(Value::String));
    phases.insert("pre_build".into(), json!({"commands": pre_build}));
    phases.insert("build".into(), json!({"commands": [build_command(image)]}));
    phases.insert("post_build".into(), json!({"commands": [RESPOND_SCRIPT]}));
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
