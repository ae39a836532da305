//! The samples: each expands, the expansion passes cfn-lint and matches its golden
//! snapshot, and the un-expanded sample passes cfn-lint with the registry schema.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{
    CFN_LINT_ERROR_BIT, cfn_lint, describe, expand_sample, extension, file_name, registry_cfn_lint,
    repo_root, samples,
};

/// `tests/golden/<stem>.expanded.<ext>` for a sample.
fn golden_path(sample: &Path) -> PathBuf {
    let stem = sample
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    repo_root()
        .join("tests/golden")
        .join(format!("{stem}.expanded.{}", extension(sample)))
}

/// Expands every sample; panics naming every sample that failed.
fn expand_all() -> Vec<(PathBuf, String)> {
    let mut expanded = Vec::new();
    let mut failures = Vec::new();
    for sample in samples() {
        let output = expand_sample(&sample);
        if output.status.success() {
            expanded.push((sample, String::from_utf8_lossy(&output.stdout).into_owned()));
        } else {
            failures.push(format!("{}: {}", file_name(&sample), describe(&output)));
        }
    }
    assert!(
        failures.is_empty(),
        "samples that do not expand:\n{}",
        failures.join("\n")
    );
    expanded
}

#[test]
fn every_expanded_sample_passes_cfn_lint() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files: Vec<PathBuf> = expand_all()
        .into_iter()
        .map(|(sample, text)| {
            let path = dir.path().join(file_name(&sample));
            fs::write(&path, text).expect("write expanded sample");
            path
        })
        .collect();
    // One cfn-lint run over every file: its start-up dominates the time.
    let output = cfn_lint()
        .arg("--")
        .args(&files)
        .output()
        .expect("run cfn-lint");
    let code = output.status.code().unwrap_or(-1);
    assert!(
        code >= 0 && code & CFN_LINT_ERROR_BIT == 0,
        "cfn-lint found errors in expanded samples:\n{}",
        describe(&output)
    );
}

/// IAM refuses a role whose inline policies exceed 10,240 characters; moto does not, so the
/// expansions are held to it here (`cib_testkit::iam`).
#[test]
fn every_expanded_samples_roles_and_projects_fit_aws_limits() {
    let mut over = Vec::new();
    for sample in samples() {
        let output = common::cib()
            .arg("expand")
            .arg(&sample)
            .args(["--region", common::REGION, "--format", "json"])
            .output()
            .expect("run cib");
        assert!(output.status.success(), "{}", describe(&output));
        let template: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("cib expand --format json writes JSON");
        if let Err(e) = cib_testkit::iam::check_role_inline_policy_sizes(&template) {
            over.push(format!("{}: {e}", file_name(&sample)));
        }
        if let Err(e) = cib_testkit::strict::codebuild::check_template_projects(&template) {
            over.push(format!("{}: {e}", file_name(&sample)));
        }
    }
    assert!(over.is_empty(), "{}", over.join("\n"));
}

#[test]
fn every_sample_matches_its_golden_expansion() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut mismatches = Vec::new();
    for (sample, text) in expand_all() {
        let golden = golden_path(&sample);
        if update {
            fs::create_dir_all(golden.parent().expect("golden dir")).expect("mkdir golden");
            fs::write(&golden, &text).expect("write golden");
            continue;
        }
        match fs::read_to_string(&golden) {
            Ok(expected) if expected == text => {}
            Ok(expected) => mismatches.push(format!(
                "{}: expansion differs from {} (first difference at line {})",
                file_name(&sample),
                golden.display(),
                first_difference(&expected, &text)
            )),
            Err(e) => mismatches.push(format!(
                "{}: golden file {} missing ({e})",
                file_name(&sample),
                golden.display()
            )),
        }
    }
    assert!(
        mismatches.is_empty(),
        "{}\nReview the change, then run `UPDATE_GOLDEN=1 cargo test -p cib --test samples` \
         to accept it.",
        mismatches.join("\n")
    );
}

/// The 1-based line where two texts first differ.
fn first_difference(a: &str, b: &str) -> usize {
    a.lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .unwrap_or_else(|| a.lines().count().min(b.lines().count()))
        + 1
}

/// cfn-lint's error findings (`Level: Error`) for `files`, linted with the registry schema.
fn registry_lint_errors(files: &[PathBuf]) -> Vec<String> {
    let schemas = repo_root().join("schemas");
    assert!(
        fs::read_dir(&schemas).is_ok_and(|mut d| d.next().is_some()),
        "no registry schema in {}",
        schemas.display()
    );
    let output = registry_cfn_lint()
        .current_dir(repo_root())
        .args(["--format", "json", "--registry-schemas"])
        .arg(&schemas)
        .arg("--")
        .args(files)
        .output()
        .expect("run cfn-lint");
    let findings: Vec<serde_json::Value> =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "cfn-lint JSON output unreadable ({e}):\n{}",
                describe(&output)
            )
        });
    findings
        .iter()
        .filter(|f| f["Level"] == "Error")
        .map(|f| {
            format!(
                "{}:{}: {} {}",
                f["Filename"].as_str().unwrap_or("?"),
                f["Location"]["Start"]["LineNumber"],
                f["Rule"]["Id"].as_str().unwrap_or("?"),
                f["Message"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

#[test]
fn every_unexpanded_sample_passes_cfn_lint_with_the_registry_schema() {
    let errors = registry_lint_errors(&samples());
    assert!(
        errors.is_empty(),
        "cfn-lint errors in un-expanded samples:\n{}",
        errors.join("\n")
    );
}

#[test]
fn registry_schema_is_applied_by_cfn_lint_to_our_resource() {
    // A control: if cfn-lint ignored the schema, these mistakes would go unnoticed.
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("bad.yaml");
    fs::write(
        &bad,
        "Resources:\n  Img:\n    Type: Custom::ContainerImageBuild\n    Properties:\n      \
         Source: {S3Bucket: b, S3Key: k.zip}\n      Platfrom: linux/arm64\n      \
         Compression: brotli\n",
    )
    .expect("write bad template");
    let errors = registry_lint_errors(&[bad]);
    let joined = errors.join("\n");
    assert!(
        joined.contains("Platfrom"),
        "unknown property not reported:\n{joined}"
    );
    assert!(
        joined.contains("brotli"),
        "enum violation not reported:\n{joined}"
    );
    assert!(
        !joined.contains("ServiceToken"),
        "cfn-lint treated the type as a generic custom resource:\n{joined}"
    );
}

#[test]
fn fifty_images_sample_is_what_its_generator_writes() {
    let script = repo_root().join("samples/gen-fifty.py");
    let output = std::process::Command::new(common::venv().join("bin/python"))
        .arg(&script)
        .arg("--check")
        .output()
        .expect("run samples/gen-fifty.py --check");
    assert!(output.status.success(), "{}", describe(&output));
}
