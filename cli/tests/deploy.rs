//! `cib package`, `cib bootstrap`, `cib deploy` and `cib check --live` against moto's server
//! on 127.0.0.1 (credentials, region and endpoint come from the environment, as for any AWS
//! tool). moto missing is a failure, never a skip.
//!
//! moto limits worth knowing (moto 5.2, `moto/cloudformation/models.py` and `parsing.py`):
//! - It records only the stack's own events (`AWS::CloudFormation::Stack`), never one per
//!   resource, so no resource is ever `CREATE_FAILED` with a `ResourceStatusReason`, and
//!   nothing rolls back. A resource its backend refuses (a bucket name already taken, a
//!   queue name twice, an invalid queue name, a repository name twice, a `DependsOn` on any
//!   of those) raises out of `ExecuteChangeSet` itself: the call fails with the backend's
//!   error code and message, which names no logical id, and the stack stays
//!   `REVIEW_IN_PROGRESS`. A custom resource's FAILED answer is ignored. So against moto
//!   `cib deploy` can only show the refusal's reason and exit 1
//!   (`deploy_reports_a_resource_moto_refuses_and_exits_non_zero`); the first failing
//!   resource's logical id, its reason and an image build's log link are covered by
//!   `deploy::progress`'s unit tests with CloudFormation's events.
//! - Stacks it creates from change sets have no outputs, so `cib deploy` here finds the
//!   provider through the support stack's fixed function name and the bucket through its
//!   `ArtifactBucket` parameter (both are also how a real support stack answers).

mod common;

use common::{cib_on, describe, run, sdk_on, text};

use std::fs;
use std::path::Path;
use std::process::Output;

use cib_testkit::MotoServer;

fn ok(output: &Output) {
    assert!(
        output.status.success(),
        "cib failed: {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
}

fn write(path: &Path, content: &str) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
    }
    fs::write(path, content).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

fn create_bucket(moto: &MotoServer, bucket: &str) {
    let (runtime, config) = common::sdk_on(moto);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    runtime
        .block_on(s3.create_bucket().bucket(bucket).send())
        .unwrap_or_else(|e| panic!("create bucket: {e:?}"));
}

fn list_keys(moto: &MotoServer, bucket: &str) -> Vec<String> {
    let (runtime, config) = common::sdk_on(moto);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    let listed = runtime
        .block_on(s3.list_objects_v2().bucket(bucket).send())
        .unwrap_or_else(|e| panic!("list: {e:?}"));
    listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

/// A template with one image built from `./api`, and a queue.
const APP_TEMPLATE: &str = "\
Resources:
  ApiImage:
    Type: Custom::ContainerImageBuild
    Properties:
      Source: {Directory: ./api}
  Queue:
    Type: AWS::SQS::Queue
";

/// Writes the app: the template, and its context with a `.dockerignore`, in `order`.
fn write_app(root: &Path, reverse: bool) {
    let mut files = vec![
        ("template.yaml", APP_TEMPLATE),
        (
            "api/Dockerfile",
            "FROM public.ecr.aws/docker/library/alpine:3\nCOPY . /app\n",
        ),
        (
            "api/.dockerignore",
            "*.log\n**/secret*\n!keep/secret-ok.txt\n/build\n",
        ),
        ("api/src/main.sh", "echo hello\n"),
        ("api/debug.log", "excluded at the root\n"),
        (
            "api/src/nested.log",
            "kept: *.log is anchored at the root\n",
        ),
        ("api/src/secret.txt", "excluded by **/secret*\n"),
        ("api/keep/secret-ok.txt", "re-included by the exception\n"),
        ("api/build/out.o", "excluded by /build\n"),
    ];
    if reverse {
        files.reverse();
    }
    for (path, content) in files {
        write(&root.join(path), content);
    }
}

fn package(moto: &MotoServer, root: &Path, bucket: &str) -> (Output, String) {
    let out = root.join("packaged.yaml");
    let output = run(cib_on(moto)
        .arg("package")
        .arg(root.join("template.yaml"))
        .args(["--s3-bucket", bucket, "--s3-prefix", "ctx", "-o"])
        .arg(&out));
    ok(&output);
    let packaged = fs::read_to_string(&out).unwrap_or_default();
    (output, packaged)
}

#[test]
fn package_uploads_once_then_skips_and_keys_are_stable_across_checkouts() {
    let moto = MotoServer::start();
    create_bucket(&moto, "contexts");
    let first = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write_app(first.path(), false);

    let (output, packaged) = package(&moto, first.path(), "contexts");
    assert!(
        text(&output.stderr).contains(" uploaded s3://contexts/ctx/"),
        "{}",
        text(&output.stderr)
    );
    assert!(packaged.contains("S3Bucket: contexts"), "{packaged}");
    assert!(!packaged.contains("Directory"), "{packaged}");
    let keys = list_keys(&moto, "contexts");
    assert_eq!(keys.len(), 1, "{keys:?}");

    let (again, repackaged) = package(&moto, first.path(), "contexts");
    assert!(
        text(&again.stderr).contains("unchanged, already in"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(packaged, repackaged);

    // Another checkout: created in the opposite order, a minute later.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write_app(second.path(), true);
    let (_, elsewhere) = package(&moto, second.path(), "contexts");
    assert_eq!(packaged, elsewhere, "same content, same key");
    assert_eq!(list_keys(&moto, "contexts"), keys);

    // What the zip holds: relative paths, .dockerignore applied as Docker does.
    let (runtime, config) = common::sdk_on(&moto);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    let key = keys.first().cloned().unwrap_or_default();
    let bytes = runtime
        .block_on(async {
            let object = s3.get_object().bucket("contexts").key(&key).send().await?;
            Ok::<_, Box<dyn std::error::Error>>(object.body.collect().await?.into_bytes())
        })
        .unwrap_or_else(|e| panic!("get: {e}"));
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec()))
        .unwrap_or_else(|e| panic!("zip: {e}"));
    let mut names = Vec::new();
    for index in 0..zip.len() {
        let file = zip.by_index(index).unwrap_or_else(|e| panic!("{e}"));
        names.push(file.name().map(|n| n.to_string()).unwrap_or_default());
    }
    assert_eq!(
        names,
        vec![
            ".dockerignore",
            "Dockerfile",
            "keep/secret-ok.txt",
            "src/main.sh",
            "src/nested.log"
        ]
    );
}

#[test]
fn the_dockerfile_is_kept_even_when_dockerignore_excludes_it() {
    let moto = MotoServer::start();
    create_bucket(&moto, "contexts");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write(&dir.path().join("template.yaml"), APP_TEMPLATE);
    write(&dir.path().join("api/Dockerfile"), "FROM scratch\n");
    write(&dir.path().join("api/.dockerignore"), "*\n");
    let (output, _) = package(&moto, dir.path(), "contexts");
    assert!(
        text(&output.stderr).contains("(1 files"),
        "{}",
        text(&output.stderr)
    );
}

const TARBALL_TEMPLATE: &str = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: ContainerImageBuild\nResources:\n  WebImage:\n    Type: Custom::ContainerImageBuild\n    Properties:\n      Source:\n        ImageTarball: ./images/web.tar\n";

#[test]
fn package_checks_a_tarball_uploads_it_by_content_and_fills_in_its_platform() {
    use cib_testkit::image_tarball::{Form, sha256, skopeo_tarball};
    let moto = MotoServer::start();
    create_bucket(&moto, "artifacts");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write(&dir.path().join("template.yaml"), TARBALL_TEMPLATE);
    let made = skopeo_tarball(dir.path(), "arm64", "web", Form::DockerArchive);
    let tar = dir.path().join("images/web.tar");
    fs::create_dir_all(dir.path().join("images")).unwrap_or_else(|e| panic!("{e}"));
    fs::copy(&made, &tar).unwrap_or_else(|e| panic!("{e}"));
    let bytes = fs::read(&tar).unwrap_or_else(|e| panic!("{e}"));
    let hex = sha256(&bytes).trim_start_matches("sha256:").to_owned();

    let (output, packaged) = package(&moto, dir.path(), "artifacts");
    let key = format!("ctx/{hex}.tar");
    assert!(
        text(&output.stderr).contains(&format!(" uploaded s3://artifacts/{key}")),
        "{}",
        text(&output.stderr)
    );
    assert!(packaged.contains(&format!("S3Key: {key}")), "{packaged}");
    assert!(packaged.contains("S3Bucket: artifacts"), "{packaged}");
    assert!(!packaged.contains("./images/web.tar"), "{packaged}");
    assert!(
        packaged.contains("Platform: linux/arm64"),
        "filled in from the image: {packaged}"
    );
    assert_eq!(list_keys(&moto, "artifacts"), vec![key.clone()]);
    let (runtime, config) = common::sdk_on(&moto);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    let stored = runtime.block_on(async {
        s3.get_object()
            .bucket("artifacts")
            .key(&key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .body
            .collect()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .into_bytes()
    });
    assert_eq!(stored.as_ref(), bytes.as_slice(), "the object is the file");

    let (again, repackaged) = package(&moto, dir.path(), "artifacts");
    assert!(
        text(&again.stderr).contains("unchanged, already in"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(packaged, repackaged);

    // The packaged template expands (the S3 form) and has no build project.
    let packaged_path = dir.path().join("packaged.yaml");
    let expanded = run(cib_on(&moto)
        .arg("expand")
        .arg(&packaged_path)
        .args(["--region", "us-east-1"]));
    ok(&expanded);
    assert!(!text(&expanded.stdout).contains("AWS::CodeBuild::Project"));
}

#[test]
fn package_refuses_a_file_that_is_not_an_image_tarball_or_a_wrong_platform() {
    use cib_testkit::image_tarball::{Form, skopeo_tarball};
    let moto = MotoServer::start();
    create_bucket(&moto, "artifacts");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write(&dir.path().join("template.yaml"), TARBALL_TEMPLATE);
    write(&dir.path().join("images/web.tar"), "not a tarball");
    let output = run(cib_on(&moto)
        .arg("package")
        .arg(dir.path().join("template.yaml"))
        .args(["--s3-bucket", "artifacts"]));
    assert!(!output.status.success());
    let err = text(&output.stderr);
    assert!(
        err.contains("Resources.WebImage.Properties.Source.ImageTarball (./images/web.tar)")
            && err.contains("not a valid image tarball"),
        "{err}"
    );
    assert!(list_keys(&moto, "artifacts").is_empty(), "nothing uploaded");

    let made = skopeo_tarball(dir.path(), "amd64", "web", Form::OciArchive);
    fs::copy(&made, dir.path().join("images/web.tar")).unwrap_or_else(|e| panic!("{e}"));
    write(
        &dir.path().join("template.yaml"),
        &format!("{TARBALL_TEMPLATE}      Platform: linux/arm64\n"),
    );
    let output = run(cib_on(&moto)
        .arg("package")
        .arg(dir.path().join("template.yaml"))
        .args(["--s3-bucket", "artifacts"]));
    assert!(!output.status.success());
    let err = text(&output.stderr);
    assert!(
        err.contains("Platform says linux/arm64") && err.contains("linux/amd64"),
        "{err}"
    );
    assert!(list_keys(&moto, "artifacts").is_empty(), "nothing uploaded");
}

fn fake_artifacts(root: &Path) -> std::path::PathBuf {
    let dir = root.join("lambda");
    for name in ["bootstrap", "cib-provider"] {
        write(
            &dir.join(name).join("bootstrap.zip"),
            &format!("not really a zip: {name}"),
        );
    }
    dir
}

/// A builder image already in the account's ECR (most tests do not exercise the copy).
const BUILDER_IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/cib-tools/buildkit@sha256:1f8167fcb0eca5b7126353d35299386945cbb8949cc516c592a49f80cfce4fa2";

fn bootstrap(moto: &MotoServer, artifacts: &Path) -> Output {
    run(cib_on(moto)
        .args([
            "bootstrap",
            "--poll-seconds",
            "1",
            "--builder-image",
            BUILDER_IMAGE,
        ])
        .arg("--artifacts")
        .arg(artifacts))
}

#[test]
fn bootstrap_copies_the_pinned_builder_image_into_ecr_once() {
    let registry = cib_testkit::oci_registry::LocalRegistry::start();
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (source, digest) = common::serve_builder_image(&registry, dir.path());
    let artifacts = fake_artifacts(dir.path());
    let copy = |extra: &[&str]| {
        run(cib_on(&moto)
            .args([
                "bootstrap",
                "--poll-seconds",
                "1",
                "--builder-source",
                &source,
            ])
            .args(extra)
            .arg("--artifacts")
            .arg(&artifacts))
    };

    let first = copy(&[]);
    ok(&first);
    assert!(
        text(&first.stderr).contains("copying the builder image"),
        "{}",
        text(&first.stderr)
    );
    let (runtime, config) = common::sdk_on(&moto);
    let ecr = aws_sdk_ecr::Client::new(&config);
    let images = runtime
        .block_on(
            ecr.describe_images()
                .repository_name("cib-tools/buildkit")
                .send(),
        )
        .unwrap_or_else(|e| panic!("describe images: {e:?}"));
    let digests: Vec<&str> = images
        .image_details()
        .iter()
        .filter_map(|d| d.image_digest())
        .collect();
    assert_eq!(
        digests,
        [digest.as_str()],
        "the copy keeps the pinned digest"
    );
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let stacks = runtime
        .block_on(
            cfn.describe_stacks()
                .stack_name("ContainerImageBuild")
                .send(),
        )
        .unwrap_or_else(|e| panic!("describe stacks: {e:?}"));
    let builder = stacks
        .stacks()
        .iter()
        .flat_map(|s| s.parameters())
        .find(|p| p.parameter_key() == Some("BuilderImage"))
        .and_then(|p| p.parameter_value())
        .unwrap_or_default()
        .to_owned();
    assert!(
        builder.ends_with(&format!("/cib-tools/buildkit@{digest}")),
        "BuilderImage names the copy by digest: {builder}"
    );

    let second = copy(&[]);
    ok(&second);
    assert!(
        text(&second.stderr).contains("is already in ECR"),
        "{}",
        text(&second.stderr)
    );
    assert!(
        text(&second.stdout).contains("no changes"),
        "{}",
        text(&second.stdout)
    );

    let unpinned = run(cib_on(&moto)
        .args([
            "bootstrap",
            "--builder-source",
            &format!("{}/moby/buildkit:v1", registry.host),
        ])
        .arg("--artifacts")
        .arg(&artifacts));
    assert_eq!(unpinned.status.code(), Some(1));
    assert!(
        text(&unpinned.stderr).contains("pinned by digest"),
        "{}",
        text(&unpinned.stderr)
    );
}

#[test]
fn bootstrap_refuses_an_artifact_bucket_another_account_owns() {
    let moto = MotoServer::start();
    // Bucket names are global: another account took the name bootstrap would use.
    let (runtime, config) = sdk_on(&moto);
    runtime.block_on(async {
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(true)
                .build(),
        )
        .create_bucket()
        .bucket("cib-artifacts-123456789012-us-east-1")
        .customize()
        .mutate_request(|request| {
            request
                .headers_mut()
                .insert("x-moto-account-id", "999999999999");
        })
        .send()
        .await
        .unwrap_or_else(|e| panic!("create the other account's bucket: {e}"));
    });
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let output = bootstrap(&moto, &fake_artifacts(dir.path()));
    assert!(!output.status.success(), "{}", describe(&output));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("cib-artifacts-123456789012-us-east-1")
            && stderr.contains("does not own it")
            && stderr.contains("--s3-bucket"),
        "{stderr}"
    );
    let ops = moto.operations();
    assert!(
        !ops.iter()
            .any(|o| o.starts_with("PUT /cib-artifacts-123456789012-us-east-1/cib/")),
        "nothing written into the other account's bucket: {ops:?}"
    );
    assert!(
        !ops.iter()
            .any(|o| o == "Action=CreateStack" || o == "Action=CreateChangeSet"),
        "no support stack: {ops:?}"
    );
}

#[test]
fn bootstrap_creates_the_support_stack_then_changes_nothing() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let artifacts = fake_artifacts(dir.path());

    let first = bootstrap(&moto, &artifacts);
    ok(&first);
    assert_eq!(
        moto.unowned_s3_calls(),
        Vec::<String>::new(),
        "every S3 call of bootstrap names the bucket's owner"
    );
    let stdout = text(&first.stdout);
    assert!(stdout.contains("+ ProviderFunction"), "{stdout}");
    assert!(
        text(&first.stderr).contains("is CREATE_COMPLETE"),
        "{}",
        text(&first.stderr)
    );
    let keys = list_keys(&moto, "cib-artifacts-123456789012-us-east-1");
    assert_eq!(keys.len(), 2, "{keys:?}");

    let second = bootstrap(&moto, &artifacts);
    ok(&second);
    assert!(
        text(&second.stdout).contains("no changes"),
        "{}",
        text(&second.stdout)
    );
    assert!(!text(&second.stdout).contains("Changes to stack"));
}

#[test]
fn deploy_without_the_support_stack_says_to_bootstrap() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write(
        &dir.path().join("t.yaml"),
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n",
    );
    let output = run(cib_on(&moto)
        .arg("deploy")
        .arg(dir.path().join("t.yaml"))
        .args(["--stack-name", "demo"]));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("run `cib bootstrap"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn deploy_packages_expands_and_follows_the_stack_to_completion() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    ok(&bootstrap(&moto, &fake_artifacts(dir.path())));

    // The image template: change set with the expanded template, not executed.
    write_app(dir.path(), false);
    let preview = run(cib_on(&moto)
        .arg("deploy")
        .arg(dir.path().join("template.yaml"))
        .args(["--stack-name", "app", "--no-execute", "--poll-seconds", "1"]));
    ok(&preview);
    let stdout = text(&preview.stdout);
    for expected in [
        "+ ApiImage ",
        "+ ApiImageRepository",
        "+ ContainerImageBuildProjectAmd64",
        "+ ContainerImageBuildRole",
        "created and not executed",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected} missing from:\n{stdout}"
        );
    }
    let keys = list_keys(&moto, "cib-artifacts-123456789012-us-east-1");
    assert_eq!(keys.len(), 3, "two Lambda zips and the context: {keys:?}");

    // A template moto can create: executed and followed until it settles.
    write(
        &dir.path().join("plain.yaml"),
        "Parameters:\n  Name: {Type: String, Default: q}\nResources:\n  Queue:\n    Type: AWS::SQS::Queue\n  Bucket:\n    Type: AWS::S3::Bucket\n",
    );
    let deploy = || {
        run(cib_on(&moto)
            .arg("deploy")
            .arg(dir.path().join("plain.yaml"))
            .args(["--stack-name", "plain", "--poll-seconds", "1"]))
    };
    let first = deploy();
    ok(&first);
    assert!(
        text(&first.stdout).contains("stack plain deployed"),
        "{}",
        text(&first.stdout)
    );
    let stderr = text(&first.stderr);
    assert!(
        stderr.contains("stack plain is CREATE_COMPLETE"),
        "{stderr}"
    );
    assert!(stderr.contains("resources done"), "{stderr}");
    let second = deploy();
    ok(&second);
    assert!(
        text(&second.stdout).contains("no changes"),
        "{}",
        text(&second.stdout)
    );
}

/// A bucket whose name is taken: moto's S3 backend refuses it while the change set runs.
/// The queue before it keeps the refusal in the middle of the stack, not at its start.
const TAKEN_BUCKET_TEMPLATE: &str = "\
Resources:
  Queue:
    Type: AWS::SQS::Queue
  Taken:
    Type: AWS::S3::Bucket
    DependsOn: Queue
    Properties:
      BucketName: already-taken
";

#[test]
fn deploy_reports_a_resource_moto_refuses_and_exits_non_zero() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    ok(&bootstrap(&moto, &fake_artifacts(dir.path())));
    create_bucket(&moto, "already-taken");
    write(&dir.path().join("taken.yaml"), TAKEN_BUCKET_TEMPLATE);

    let output = run(cib_on(&moto)
        .arg("deploy")
        .arg(dir.path().join("taken.yaml"))
        .args(["--stack-name", "taken", "--poll-seconds", "1"]));
    let stdout = text(&output.stdout);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    // The change set was created and shown: the failure came from executing it.
    assert!(stdout.contains("+ Taken "), "{stdout}");
    assert!(!stdout.contains("deployed"), "{stdout}");
    // moto's reason, whole, on the error line. When moto starts failing resources through
    // events this changes to `Taken (AWS::S3::Bucket) failed with CREATE_FAILED: ...`; see
    // the module's notes.
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_default();
    assert_eq!(
        error,
        "error: cannot execute the change set: BucketAlreadyExists: The requested bucket name is not available. \
         The bucket namespace is shared by all users of the system. Please select a different name and try again",
        "{stderr}"
    );
}

#[test]
fn deploy_refuses_a_template_with_errors_before_creating_anything() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    ok(&bootstrap(&moto, &fake_artifacts(dir.path())));
    write(
        &dir.path().join("bad.yaml"),
        "Resources:\n  Img:\n    Type: Custom::ContainerImageBuild\n    Properties:\n      Source: {S3Bucket: b, S3Key: k.zip}\n      Platform: linux/s390x\n",
    );
    let output = run(cib_on(&moto)
        .arg("deploy")
        .arg(dir.path().join("bad.yaml"))
        .args(["--stack-name", "bad"]));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("nothing was deployed"),
        "{}",
        text(&output.stderr)
    );
}

/// Writes one replication rule of someone else's, to the first `count` of 24 regions
/// (moto accepts one rule per configuration; the rule limit is covered by the engine's tests).
fn foreign_rule(moto: &MotoServer, count: usize) {
    use aws_sdk_ecr::types::{
        ReplicationConfiguration, ReplicationDestination, ReplicationRule, RepositoryFilter,
        RepositoryFilterType,
    };
    // Regions of the engine's table that neither the stack (us-*) nor the template
    // (eu-west-1) uses.
    let regions: Vec<&str> = cib_engine::partition::PARTITIONS
        .iter()
        .filter(|p| p.id == "aws")
        .flat_map(|p| p.known_regions.iter().copied())
        .filter(|r| !r.starts_with("us-") && *r != "eu-west-1")
        .collect();
    assert!(
        regions.len() >= count,
        "not enough regions for {count} destinations"
    );
    let (runtime, config) = common::sdk_on(moto);
    let ecr = aws_sdk_ecr::Client::new(&config);
    let mut rule = ReplicationRule::builder().repository_filters(
        RepositoryFilter::builder()
            .filter("someone-else")
            .filter_type(RepositoryFilterType::PrefixMatch)
            .build()
            .unwrap_or_else(|e| panic!("{e}")),
    );
    for region in regions.iter().take(count) {
        rule = rule.destinations(
            ReplicationDestination::builder()
                .region(*region)
                .registry_id("123456789012")
                .build()
                .unwrap_or_else(|e| panic!("{e}")),
        );
    }
    let configuration = ReplicationConfiguration::builder()
        .rules(rule.build().unwrap_or_else(|e| panic!("{e}")))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    runtime
        .block_on(
            ecr.put_replication_configuration()
                .replication_configuration(configuration)
                .send(),
        )
        .unwrap_or_else(|e| panic!("put replication: {e:?}"));
}

#[test]
fn live_check_counts_the_registrys_foreign_destinations() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let template = dir.path().join("replicas.yaml");
    write(
        &template,
        "Resources:\n  Img:\n    Type: Custom::ContainerImageBuild\n    Properties:\n      Source: {S3Bucket: b, S3Key: k.zip}\n      ReplicaRegions: [us-west-2, eu-west-1]\n",
    );
    let check = || run(cib_on(&moto).arg("check").arg(&template).arg("--live"));

    foreign_rule(&moto, 23);
    let fits = check();
    assert_eq!(fits.status.code(), Some(0), "{}", text(&fits.stdout));

    foreign_rule(&moto, 24);
    let full = check();
    assert_eq!(full.status.code(), Some(1), "{}", text(&full.stdout));
    let stdout = text(&full.stdout);
    assert!(
        stdout.contains("CIB021") && stdout.contains("24 destination(s)"),
        "{stdout}"
    );

    let offline = run(cib_on(&moto).arg("check").arg(&template));
    assert_eq!(
        offline.status.code(),
        Some(0),
        "without --live the registry is not read"
    );
}
