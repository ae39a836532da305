//! Expansion benchmark: templates with 1, 50 and 200 images, measured in-process
//! (parse, expand with checks, write YAML) and as a whole `cib expand` process
//! (wall time and the peak resident memory of the child).
//!
//! Run with `cargo bench -p cib --bench expand`; it prints a Markdown table.

use std::hint::black_box;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cib_engine::{ExpandOptions, template};

/// A template with `count` images, every fifth feeding a Lambda function (a stack holds
/// 500 resources, so 200 images leave room for 40 functions).
fn template_with(count: usize) -> String {
    let mut out = String::from(
        "AWSTemplateFormatVersion: '2010-09-09'\nTransform: ContainerImageBuild\nParameters:\n  SourceBucket:\n    Type: String\n    Default: contexts\nResources:\n",
    );
    for i in 0..count {
        let platform = if i % 2 == 0 {
            "linux/arm64"
        } else {
            "linux/amd64"
        };
        let arch = if i % 2 == 0 { "arm64" } else { "x86_64" };
        out.push_str(&format!(
            "  Image{i}:\n    Type: Custom::ContainerImageBuild\n    Properties:\n      Source: {{S3Bucket: !Ref SourceBucket, S3Key: ctx/{i}.zip}}\n      Platform: {platform}\n      BuildArgs: {{STAGE: prod, INDEX: '{i}'}}\n"
        ));
        if i % 10 == 0 {
            out.push_str("      ReplicaRegions: [us-west-2, eu-west-1]\n");
        }
        if i % 5 != 0 {
            continue;
        }
        out.push_str(&format!(
            "  Function{i}:\n    Type: AWS::Lambda::Function\n    Properties:\n      PackageType: Image\n      Architectures: [{arch}]\n      Role: arn:aws:iam::123456789012:role/fn\n      Code: {{ImageUri: !GetAtt Image{i}.ImageUri}}\n"
        ));
    }
    out
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn in_process(text: &str, runs: usize) -> (Duration, usize) {
    let options = ExpandOptions {
        region: Some("us-east-1".into()),
        ..ExpandOptions::default()
    };
    let mut samples = Vec::with_capacity(runs);
    let mut resources = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let Ok((value, _)) = template::parse(text.as_bytes()) else {
            panic!("benchmark template does not parse");
        };
        let outcome = cib_engine::expand(&value, &options);
        let Some(expanded) = outcome.template else {
            panic!("benchmark template does not expand: {:?}", outcome.findings);
        };
        black_box(template::to_yaml(&expanded));
        samples.push(start.elapsed());
        resources = expanded["Resources"].as_object().map_or(0, |r| r.len());
    }
    (median(samples), resources)
}

/// Peak resident set of the largest child waited for so far, in KiB.
fn children_max_rss_kib() -> i64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a full rusage into the pointer it is given.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) };
    if rc != 0 {
        return -1;
    }
    // SAFETY: rc == 0 means the struct was filled in.
    unsafe { usage.assume_init() }.ru_maxrss
}

fn whole_process(path: &Path, runs: usize) -> Duration {
    let binary = env!("CARGO_BIN_EXE_cib");
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let status = Command::new(binary)
            .args(["expand", "--region", "us-east-1"])
            .arg(path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        samples.push(start.elapsed());
        assert!(status.is_ok_and(|s| s.success()), "cib expand failed");
    }
    median(samples)
}

fn main() {
    let dir = std::env::temp_dir().join(format!("cib-bench-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("cannot create {}: {e}", dir.display());
    }
    println!(
        "| images | in-process median | `cib expand` median | resources | resources per image | peak RSS of `cib expand` (so far) |"
    );
    println!("|---|---|---|---|---|---|");
    for count in [1usize, 50, 200] {
        let text = template_with(count);
        let path = dir.join(format!("images-{count}.yaml"));
        if let Err(e) = std::fs::write(&path, &text) {
            panic!("cannot write {}: {e}", path.display());
        }
        let (engine, resources) = in_process(&text, 30);
        let process = whole_process(&path, 30);
        // Count only what the expansion adds: not the functions.
        let functions = count.div_ceil(5);
        let template_wide = resources - functions - 2 * count;
        println!(
            "| {count} | {:.2} ms | {:.2} ms | {resources} | 2 (+{template_wide} per template) | {} MiB |",
            engine.as_secs_f64() * 1e3,
            process.as_secs_f64() * 1e3,
            children_max_rss_kib() / 1024
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
