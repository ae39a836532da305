//! The per-image buildspec, handed to StartBuild as `buildspecOverride`.
//!
//! Invariant: no template value is ever written into this text. Values reach the build
//! as environment variables set by the provider; the only per-image text is the list of
//! build-argument names (validated identifiers), the secret slots and the user's own
//! commands, which are shell by definition. The shared scripts (login, build, respond)
//! live once per CodeBuild project in its environment variables, so 200 images do not
//! carry 200 copies of them.

use serde_json::{Value, json};

use crate::spec::ImageSpec;
use crate::template::to_yaml;

/// Logs in to the registries the build pulls from and pushes to.
pub const LOGIN_SCRIPT: &str = include_str!("../../assets/login.sh");
/// Builds and pushes the image.
pub const BUILD_SCRIPT: &str = include_str!("../../assets/build.sh");
/// Answers CloudFormation at the end of the build.
pub const RESPOND_SCRIPT: &str = include_str!("../../assets/respond.sh");

/// The project environment variables that carry the shared scripts, with their text.
pub const SCRIPT_VARIABLES: &[(&str, &str)] = &[
    ("CIB_LOGIN_SCRIPT", LOGIN_SCRIPT),
    ("CIB_BUILD_SCRIPT", BUILD_SCRIPT),
    ("CIB_RESPOND_SCRIPT", RESPOND_SCRIPT),
];

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
    let mut command = String::from("bash -c \"$CIB_BUILD_SCRIPT\" cib-build");
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
    let mut pre_build = vec![json!("bash -c \"$CIB_LOGIN_SCRIPT\"")];
    pre_build.extend(image.pre_build_commands.iter().cloned().map(Value::String));
    phases.insert("pre_build".into(), json!({"commands": pre_build}));
    phases.insert("build".into(), json!({"commands": [build_command(image)]}));
    phases.insert(
        "post_build".into(),
        json!({"commands": ["bash -c \"$CIB_RESPOND_SCRIPT\""]}),
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
