//! The support stack passes cfn-lint (from the project's venv) with no error.

use std::path::Path;
use std::process::Command;

#[test]
fn the_support_stack_passes_cfn_lint() {
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/support-stack.yaml");
    let output = Command::new(cib_testkit::venv_program("cfn-lint"))
        .arg(&template)
        .output()
        .unwrap_or_else(|e| panic!("cannot run cfn-lint: {e}"));
    assert!(
        output.status.success(),
        "cfn-lint findings:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
