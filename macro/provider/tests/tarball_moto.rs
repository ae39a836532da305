//! Tarball images against moto: an image tarball written by skopeo lies in the artifact
//! bucket; the provider pushes it into the generated repository with no build and answers
//! with the attributes of a built image; the same tarball again pushes nothing; a hostile
//! tarball, a wrong platform, a foreign bucket and an object too large each fail with a
//! clear reason and tag nothing.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use cib_registry::Tarball;
use cib_testkit::image_tarball::{Form, skopeo_tarball};
use common::*;
use serde_json::{Value, json};

const TRIGGER: &str = "Custom::ContainerImageBuild";
const BUCKET: &str = common::ARTIFACT_BUCKET;
const CIB_REPO: &str = "cib/webimage-11111111-2222-3333-4444-555555555555";
const ECR: &str = "AmazonEC2ContainerRegistry_V20150921";

struct TarballEnv {
    env: Env,
    _spool: tempfile::TempDir,
    work: tempfile::TempDir,
}

async fn setup_tarball(max_bytes: u64) -> TarballEnv {
    let mut env = setup().await;
    let spool = tempfile::tempdir().expect("spool dir");
    env.provider.settings.tarball_bucket = Some(BUCKET.into());
    env.provider.settings.tarball_max_bytes = max_bytes;
    env.provider.settings.spool_dir = spool.path().to_path_buf();
    env.s3()
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("create bucket");
    env.ecr(HOME)
        .create_repository()
        .repository_name(CIB_REPO)
        .send()
        .await
        .expect("create repository");
    TarballEnv {
        env,
        _spool: spool,
        work: tempfile::tempdir().expect("work dir"),
    }
}

impl TarballEnv {
    async fn upload(&self, key: &str, path: &Path) {
        let body = std::fs::read(path).expect("read tarball");
        self.upload_bytes(key, body).await;
    }

    async fn upload_bytes(&self, key: &str, body: Vec<u8>) {
        self.env
            .s3()
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await
            .expect("put object");
    }

    async fn create(&self, props: &Value, request_id: &str) -> Value {
        let before = self.env.recorder.puts().len();
        self.env
            .provider
            .handle(
                self.env
                    .play(&cfn_event(
                        &self.env, "Create", request_id, TRIGGER, props, None, None,
                    ))
                    .await,
                Instant::now() + Duration::from_secs(300),
            )
            .await
            .expect("handled");
        let puts = self.env.recorder.puts();
        assert_eq!(puts.len(), before + 1, "exactly one answer");
        puts[before].json()
    }

    async fn images(&self) -> usize {
        self.env
            .ecr(HOME)
            .describe_images()
            .repository_name(CIB_REPO)
            .send()
            .await
            .map(|o| o.image_details().len())
            .expect("describe images")
    }

    fn ecr_calls(&self, operation: &str) -> usize {
        let wanted = format!("{ECR}.{operation}");
        self.env
            .moto
            .operations()
            .iter()
            .filter(|o| **o == wanted)
            .count()
    }
}

fn props(key: &str) -> Value {
    let props = json!({
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:ContainerImageBuild-Provider",
        "ServiceTimeout": "1200",
        "ContractVersion": cib_contract::CONTRACT_VERSION,
        "Source": {"ImageTarball": {"S3Bucket": BUCKET, "S3Key": key}},
        "ReplicaRegions": []
    });
    in_repository(props, CIB_REPO)
}

fn reason(v: &Value) -> &str {
    v["Reason"].as_str().unwrap_or_default()
}

fn open(path: &Path) -> Tarball {
    Tarball::open(path, None).expect("the tarball skopeo wrote opens")
}

async fn stored_manifest(env: &Env, tag: &str) -> String {
    let out = env
        .ecr(HOME)
        .batch_get_image()
        .repository_name(CIB_REPO)
        .image_ids(
            aws_sdk_ecr::types::ImageIdentifier::builder()
                .image_tag(tag)
                .build(),
        )
        .send()
        .await
        .expect("batch get image");
    out.images()
        .first()
        .and_then(|i| i.image_manifest())
        .expect("the tag names an image")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oci_archive_is_pushed_byte_for_byte_and_a_second_create_pushes_nothing() {
    let t = setup_tarball(64 << 20).await;
    let path = skopeo_tarball(t.work.path(), "arm64", "one", Form::OciArchive);
    let tarball = open(&path);
    let digest = tarball.root().digest.to_string();
    let hex = digest.trim_start_matches("sha256:").to_owned();
    t.upload("tarballs/web.tar", &path).await;
    let mut p = props("tarballs/web.tar");
    p["Platform"] = json!("linux/arm64");
    p["ImageTagPrefix"] = json!("web-");

    let unowned_before = t.env.moto.unowned_s3_calls().len();
    let v = t.create(&p, "tb-1").await;
    assert_eq!(v["Status"], "SUCCESS", "{v}");
    assert_eq!(
        t.env.moto.unowned_s3_calls().len(),
        unowned_before,
        "the provider's S3 calls name the bucket's owner: {:?}",
        t.env.moto.unowned_s3_calls()
    );
    let tag = format!("web-{hex}");
    let data = &v["Data"];
    assert_eq!(data["ImageTag"], json!(tag));
    assert_eq!(data["ImageDigest"], json!(digest));
    assert_eq!(
        data["ImageUri"],
        json!(format!(
            "{ACCOUNT}.dkr.ecr.{HOME}.amazonaws.com/{CIB_REPO}:{tag}"
        ))
    );
    assert_eq!(
        data["ImageUriWithDigest"],
        json!(format!(
            "{ACCOUNT}.dkr.ecr.{HOME}.amazonaws.com/{CIB_REPO}@{digest}"
        ))
    );
    assert_eq!(data["RepositoryName"], json!(CIB_REPO));
    assert_eq!(
        stored_manifest(&t.env, &tag).await.as_bytes(),
        tarball.root().bytes.as_ref(),
        "BatchGetImage returns the tarball's manifest byte for byte"
    );
    assert!(
        t.ecr_calls("UploadLayerPart") >= 2,
        "config and layer uploaded"
    );
    assert_eq!(t.ecr_calls("PutImage"), 1);

    // The same tarball again (a re-deploy or a rollback): the tag exists, nothing is pushed.
    let parts = t.ecr_calls("UploadLayerPart");
    let checks = t.ecr_calls("BatchCheckLayerAvailability");
    let v2 = t.create(&p, "tb-2").await;
    assert_eq!(v2["Status"], "SUCCESS", "{v2}");
    assert_eq!(v2["Data"], v["Data"], "the same attributes");
    assert_eq!(t.ecr_calls("UploadLayerPart"), parts, "no part sent again");
    assert_eq!(t.ecr_calls("BatchCheckLayerAvailability"), checks);
    assert_eq!(t.ecr_calls("PutImage"), 1, "no manifest written again");
    assert_eq!(t.images().await, 1);
    assert!(
        t.env.moto.refusals().is_empty(),
        "{:?}",
        t.env.moto.refusals()
    );
    assert!(t.env.builds().await.is_empty(), "no build anywhere");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_docker_archive_is_pushed_with_the_tag_of_its_digest_and_a_fixed_tag_is_honoured() {
    let t = setup_tarball(64 << 20).await;
    let path = skopeo_tarball(t.work.path(), "amd64", "two", Form::DockerArchive);
    let tarball = open(&path);
    let digest = tarball.root().digest.to_string();
    t.upload("tarballs/docker.tar", &path).await;

    let v = t.create(&props("tarballs/docker.tar"), "tb-d1").await;
    assert_eq!(v["Status"], "SUCCESS", "{v}");
    let hex = digest.trim_start_matches("sha256:");
    assert_eq!(v["Data"]["ImageTag"], json!(hex));
    assert_eq!(v["Data"]["ImageDigest"], json!(digest));
    assert_eq!(
        stored_manifest(&t.env, hex).await.as_bytes(),
        tarball.root().bytes.as_ref()
    );

    let mut fixed = props("tarballs/docker.tar");
    fixed["ImageTag"] = json!("v1");
    let v = t.create(&fixed, "tb-d2").await;
    assert_eq!(v["Status"], "SUCCESS", "{v}");
    assert_eq!(v["Data"]["ImageTag"], json!("v1"));
    assert_eq!(v["Data"]["ImageDigest"], json!(digest));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_other_than_the_tarballs_fails_and_tags_nothing() {
    let t = setup_tarball(64 << 20).await;
    let path = skopeo_tarball(t.work.path(), "amd64", "three", Form::OciArchive);
    t.upload("tarballs/amd.tar", &path).await;
    let mut p = props("tarballs/amd.tar");
    p["Platform"] = json!("linux/arm64");
    let v = t.create(&p, "tb-p1").await;
    assert_eq!(v["Status"], "FAILED", "{v}");
    let r = reason(&v);
    assert!(
        r.contains("Platform") && r.contains("linux/arm64") && r.contains("linux/amd64"),
        "{r}"
    );
    assert_eq!(t.images().await, 0);
    assert_eq!(t.ecr_calls("PutImage"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_or_broken_tarball_fails_naming_the_problem_and_tags_nothing() {
    let t = setup_tarball(64 << 20).await;
    let path = skopeo_tarball(t.work.path(), "amd64", "four", Form::OciArchive);
    let good = std::fs::read(&path).expect("read");
    // Truncated in the middle: a tar cut short.
    t.upload_bytes("bad/truncated.tar", good[..good.len() / 2].to_vec())
        .await;
    // An entry that escapes the archive.
    let escape = cib_testkit::image_tarball::tar_with_file("../etc/passwd", b"x");
    t.upload_bytes("bad/escape.tar", escape).await;
    // Not a tarball at all.
    t.upload_bytes("bad/text.tar", b"not a tar".to_vec()).await;
    // A flipped byte inside a blob (the image config): its digest no longer matches.
    let mut flipped = good.clone();
    let at = find(&flipped, b"\"config\":{\"Cmd\"").expect("the config is in the tar");
    flipped[at + 2] ^= 0x20;
    t.upload_bytes("bad/flipped.tar", flipped).await;

    for (key, wanted) in [
        ("bad/truncated.tar", "bad/truncated.tar"),
        ("bad/escape.tar", ".."),
        ("bad/text.tar", "bad/text.tar"),
        ("bad/flipped.tar", "sha256:"),
    ] {
        let v = t.create(&props(key), &format!("tb-h-{}", key.len())).await;
        assert_eq!(v["Status"], "FAILED", "{key}: {v}");
        let r = reason(&v);
        assert!(r.contains(wanted), "{key}: {r}");
        assert!(
            r.contains("nothing was pushed") || r.contains("nothing was tagged"),
            "{key}: {r}"
        );
    }
    assert_eq!(t.images().await, 0, "nothing tagged");
    assert_eq!(t.ecr_calls("PutImage"), 0, "no manifest written");
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_over_the_spool_size_fails_before_it_is_downloaded() {
    let t = setup_tarball(4096).await;
    let path = skopeo_tarball(t.work.path(), "amd64", "five", Form::OciArchive);
    t.upload("tarballs/big.tar", &path).await;
    let size = std::fs::metadata(&path).expect("size").len();
    assert!(size > 4096);
    let v = t.create(&props("tarballs/big.tar"), "tb-big").await;
    assert_eq!(v["Status"], "FAILED", "{v}");
    let r = reason(&v);
    assert!(
        r.contains(&size.to_string()) && r.contains("4096") && r.contains("ephemeral storage"),
        "{r}"
    );
    let gets = t
        .env
        .moto
        .operations()
        .iter()
        .filter(|o| o.starts_with("GET ") && o.contains("big.tar"))
        .count();
    assert_eq!(gets, 0, "the object was never downloaded");
    assert_eq!(t.images().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_bucket_or_a_named_repository_is_refused_before_any_call() {
    let t = setup_tarball(64 << 20).await;
    let mut p = props("tarballs/x.tar");
    p["Source"]["ImageTarball"]["S3Bucket"] = json!("someone-elses-bucket");
    // S3 and ECR calls: the gate's (CloudFormation reads, its DynamoDB record of verified
    // properties) and the test's own stacks aside.
    let registry_calls = || {
        t.env
            .moto
            .operations()
            .into_iter()
            .filter(|o| !o.starts_with("Action=") && !o.starts_with("DynamoDB_"))
            .count()
    };
    let calls = registry_calls();
    let v = t.create(&p, "tb-f1").await;
    assert_eq!(v["Status"], "FAILED", "{v}");
    assert!(
        reason(&v).contains("someone-elses-bucket") && reason(&v).contains(BUCKET),
        "{}",
        reason(&v)
    );
    let mut named = props("tarballs/x.tar");
    named["RepositoryName"] = json!("my-team/web");
    let v = t.create(&named, "tb-f2").await;
    assert_eq!(v["Status"], "FAILED", "{v}");
    assert!(reason(&v).contains("my-team/web"), "{}", reason(&v));
    assert_eq!(
        registry_calls(),
        calls,
        "no S3 or ECR call was made for a refused trigger"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_region_gets_the_pushed_tag_with_the_same_digest() {
    use cib_registry::{CopyOptions, EcrRepository, Tag, copy_image};
    let t = setup_tarball(64 << 20).await;
    let replica = "us-west-2";
    t.env
        .ecr(replica)
        .create_repository()
        .repository_name(CIB_REPO)
        .send()
        .await
        .expect("create replica repository");
    let path = skopeo_tarball(t.work.path(), "amd64", "six", Form::OciArchive);
    let tarball = open(&path);
    let digest = tarball.root().digest.to_string();
    // moto serves no layer downloads, so the replica gets the blobs first, untagged, as
    // ECR replication would have brought them; the provider copies the manifest and tag.
    let untagged = CopyOptions {
        tag: Tag::Untagged,
        ..CopyOptions::default()
    };
    copy_image(
        &tarball,
        &EcrRepository::new(t.env.ecr(replica), CIB_REPO),
        "",
        &untagged,
    )
    .await
    .expect("seed the replica's blobs");
    t.upload("tarballs/six.tar", &path).await;
    let mut p = props("tarballs/six.tar");
    p["ReplicaRegions"] = json!([replica]);

    let v = t.create(&p, "tb-r1").await;
    assert_eq!(v["Status"], "SUCCESS", "{v}");
    let tag = digest.trim_start_matches("sha256:");
    assert_eq!(
        v["Data"][format!("ImageUri.{replica}")],
        json!(format!(
            "{ACCOUNT}.dkr.ecr.{replica}.amazonaws.com/{CIB_REPO}:{tag}"
        ))
    );
    let in_replica = cib_provider::aws::ecr::image_digest(&t.env.ecr(replica), CIB_REPO, tag)
        .await
        .expect("lookup");
    assert_eq!(in_replica.as_deref(), Some(digest.as_str()));
}

/// A tarball object that is not there: S3 answers the provider 403, not 404, because its
/// role may read objects but not list the bucket (the strict layer answers as S3 does); the
/// reason says the object is missing or unreadable, and nothing is pushed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_tarball_object_fails_saying_it_is_missing_or_unreadable() {
    let t = setup_tarball(64 << 20).await;
    let v = t
        .create(&props("tarballs/never-uploaded.tar"), "tb-m1")
        .await;
    assert_eq!(v["Status"], "FAILED", "{v}");
    let r = reason(&v);
    assert!(
        r.contains("tarballs/never-uploaded.tar")
            && r.contains("does not exist, or the provider may not read it"),
        "{r}"
    );
    assert_eq!(t.images().await, 0);
}
