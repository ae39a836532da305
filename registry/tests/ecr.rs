//! Pushes and copies into moto's ECR: manifests byte for byte, every layer available, a
//! second push that sends nothing, nothing tagged after a bad blob, and a copy from the
//! reference registry (Debian's docker-registry, filled by skopeo).

mod common;

use std::sync::{Arc, Mutex};

use cib_registry::copy::{CopyOptions, Tag};
use cib_registry::manifest::{MediaType, Parsed};
use cib_registry::{
    EcrRepository, ImageReference, Progress, RegistryClient, Tarball, copy_image, push_tarball,
};
use cib_testkit::MotoServer;
use common::*;

const REGION: &str = "us-east-1";

/// Options that record every progress event.
fn recording(tag: Tag) -> (CopyOptions, Arc<Mutex<Vec<Progress>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    let options = CopyOptions {
        tag,
        progress: Some(Arc::new(move |p: &Progress| {
            if let Ok(mut v) = sink.lock() {
                v.push(p.clone());
            }
        })),
        ..CopyOptions::default()
    };
    (options, events)
}

fn parts_sent(events: &Mutex<Vec<Progress>>) -> usize {
    events
        .lock()
        .map(|v| {
            v.iter()
                .filter(|p| matches!(p, Progress::BlobBytes { .. }))
                .count()
        })
        .unwrap_or(usize::MAX)
}

async fn assert_layers_available(
    client: &aws_sdk_ecr::Client,
    repository: &str,
    digests: Vec<String>,
) {
    let out = client
        .batch_check_layer_availability()
        .repository_name(repository)
        .set_layer_digests(Some(digests.clone()))
        .send()
        .await
        .expect("check layers");
    assert!(out.failures().is_empty(), "{:?}", out.failures());
    assert_eq!(out.layers().len(), digests.len());
}

fn blob_digests(tarball: &Tarball) -> Vec<String> {
    let mut out = Vec::new();
    let root = tarball.root();
    let mut manifests = vec![root.clone()];
    if let Ok(Parsed::Index {
        manifests: children,
    }) = root.parse()
    {
        for child in children {
            manifests.push(tarball.manifest_by_digest(&child.digest).expect("child"));
        }
    }
    for m in manifests {
        if let Ok(Parsed::Image { config, layers }) = m.parse() {
            out.push(config.digest.to_string());
            out.extend(layers.iter().map(|l| l.digest.to_string()));
        }
    }
    out.sort();
    out.dedup();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_stores_the_manifest_byte_for_byte_and_a_second_push_sends_nothing() {
    let moto = MotoServer::start();
    let client = ecr_client(&moto, REGION);
    create_repository(&client, "cib/app").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let layout = single_platform("push");
    write_dir(&layout, &dir.path().join("layout"), "v1");
    let cases = [
        (
            "oci.tar",
            format!("oci-archive:{}:v1", dir.path().join("oci.tar").display()),
        ),
        (
            "docker.tar",
            format!(
                "docker-archive:{}:example/app:v1",
                dir.path().join("docker.tar").display()
            ),
        ),
    ];
    let destination = EcrRepository::new(client.clone(), "cib/app");
    for (file, target) in &cases {
        skopeo(&[
            "copy",
            &format!("oci:{}:v1", dir.path().join("layout").display()),
            target,
        ]);
        let path = dir.path().join(file);
        let tarball = Tarball::open(&path, None).expect("open");
        let (options, events) = recording(Tag::DigestHex);
        let report = push_tarball(&path, None, &destination, &options)
            .await
            .expect("push");
        assert_eq!(report.digest, tarball.root().digest, "{file}");
        assert_eq!(report.tag.as_deref(), Some(tarball.root().digest.hex()));
        assert!(
            parts_sent(&events) > 0 || *file == "docker.tar",
            "{file}: the first push uploads"
        );
        let stored = stored_manifest(&client, "cib/app", tarball.root().digest.hex()).await;
        assert_eq!(
            stored.as_deref().map(str::as_bytes),
            Some(tarball.root().bytes.as_ref()),
            "{file}"
        );
        assert_layers_available(&client, "cib/app", blob_digests(&tarball)).await;

        let (options, events) = recording(Tag::DigestHex);
        let again = push_tarball(&path, None, &destination, &options)
            .await
            .expect("second push");
        assert_eq!(again.blobs_uploaded, 0, "{file}");
        assert_eq!(again.bytes_uploaded, 0, "{file}");
        assert_eq!(
            parts_sent(&events),
            0,
            "{file}: no UploadLayerPart on a second push"
        );
        assert_eq!(again.digest, report.digest);
        assert!(again.already_present, "{file}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_platform_tarball_is_pushed_as_an_index_with_every_manifest() {
    let moto = MotoServer::start();
    let client = ecr_client(&moto, REGION);
    create_repository(&client, "cib/multi").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let layout = multi_platform();
    let path = dir.path().join("multi.tar");
    std::fs::write(&path, tar_of(&tar_entries(&layout, "v1"))).expect("write");
    let destination = EcrRepository::new(client.clone(), "cib/multi");
    let report = push_tarball(
        &path,
        None,
        &destination,
        &CopyOptions {
            tag: Tag::Named("v1".into()),
            ..CopyOptions::default()
        },
    )
    .await
    .expect("push");
    assert_eq!(report.media_type, MediaType::OCI_INDEX);
    assert_eq!(report.manifests, 3);
    let stored = stored_manifest(&client, "cib/multi", "v1").await;
    assert_eq!(
        stored.as_deref().map(str::as_bytes),
        Some(layout.root.0.as_slice())
    );
    // Every platform manifest is there by digest.
    let tarball = Tarball::open(&path, None).expect("open");
    let Ok(Parsed::Index { manifests }) = tarball.root().parse() else {
        panic!("index")
    };
    for child in manifests {
        let out = client
            .batch_get_image()
            .repository_name("cib/multi")
            .image_ids(
                aws_sdk_ecr::types::ImageIdentifier::builder()
                    .image_digest(child.digest.as_str())
                    .build(),
            )
            .send()
            .await
            .expect("get child");
        assert_eq!(out.images().len(), 1, "{}", child.digest);
    }
    assert_layers_available(&client, "cib/multi", blob_digests(&tarball)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_with_a_bad_digest_stops_the_push_and_nothing_is_tagged() {
    let moto = MotoServer::start();
    let client = ecr_client(&moto, REGION);
    create_repository(&client, "cib/bad").await;
    let layout = single_platform("bad");
    let (bad_digest, _) = &layout.blobs[1];
    let bad_name = format!("blobs/sha256/{}", bad_digest.hex());
    let mut entries = tar_entries(&layout, "v1");
    for (name, data) in entries.iter_mut() {
        if *name == bad_name {
            let last = data.len() - 1;
            data[last] ^= 1;
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.tar");
    std::fs::write(&path, tar_of(&entries)).expect("write");
    let destination = EcrRepository::new(client.clone(), "cib/bad");
    let err = push_tarball(&path, None, &destination, &CopyOptions::default())
        .await
        .expect_err("a bad blob fails the push");
    let text = err.to_string();
    assert!(
        text.contains(&bad_name) && text.contains("hashes to"),
        "{text}"
    );
    assert_eq!(image_count(&client, "cib/bad").await, 0, "nothing tagged");
    let out = client
        .batch_check_layer_availability()
        .repository_name("cib/bad")
        .layer_digests(bad_digest.as_str())
        .send()
        .await
        .expect("check");
    assert!(out.layers().is_empty(), "the bad blob was not completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_from_the_reference_registry_into_ecr() {
    let registry = LocalRegistry::start();
    let moto = MotoServer::start();
    let client = ecr_client(&moto, REGION);
    create_repository(&client, "cib-tools/buildkit").await;
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, layout, all) in [
        ("single", single_platform("registry"), false),
        ("multi", multi_platform(), true),
    ] {
        write_dir(&layout, &dir.path().join(name), "v1");
        let mut args = vec!["copy", "--dest-tls-verify=false"];
        if all {
            args.push("--all");
        }
        let from = format!("oci:{}:v1", dir.path().join(name).display());
        let to = format!("docker://{}/upstream/{name}:v1", registry.host);
        args.extend([from.as_str(), to.as_str()]);
        skopeo(&args);

        let reference = ImageReference::parse(&format!("{}/upstream/{name}:v1", registry.host))
            .expect("reference");
        let source = RegistryClient::new(&reference, None).expect("client");
        let destination = EcrRepository::new(client.clone(), "cib-tools/buildkit");
        let (options, _) = recording(Tag::Named(format!("{name}-v1")));
        let report = copy_image(&source, &destination, &reference.reference(), &options)
            .await
            .expect("copy");
        // What the registry serves (skopeo may have rewritten it) is what ECR now stores.
        use cib_registry::copy::Source as _;
        let served = source.manifest("v1", None).await.expect("manifest");
        assert_eq!(report.digest, served.digest);
        let stored = stored_manifest(&client, "cib-tools/buildkit", &format!("{name}-v1")).await;
        assert_eq!(
            stored.as_deref().map(str::as_bytes),
            Some(served.bytes.as_ref()),
            "{name}"
        );
        if all {
            assert!(
                MediaType::is_index(&report.media_type),
                "{name}: {}",
                report.media_type
            );
            assert_eq!(report.manifests, 3);
        }
        // Pinned by digest: the same copy again uploads nothing.
        let by_digest = copy_image(
            &source,
            &destination,
            report.digest.as_str(),
            &CopyOptions {
                tag: Tag::Untagged,
                ..CopyOptions::default()
            },
        )
        .await
        .expect("copy by digest");
        assert_eq!(by_digest.blobs_uploaded, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_immutable_tag_is_never_moved_to_another_image() {
    let moto = MotoServer::start();
    let client = ecr_client(&moto, REGION);
    client
        .create_repository()
        .repository_name("cib/immutable")
        .image_tag_mutability(aws_sdk_ecr::types::ImageTagMutability::Immutable)
        .send()
        .await
        .expect("create repository");
    let dir = tempfile::tempdir().expect("tempdir");
    let destination = EcrRepository::new(client.clone(), "cib/immutable");
    let options = CopyOptions {
        tag: Tag::Named("v1".into()),
        ..CopyOptions::default()
    };
    let first = single_platform("first");
    let first_path = dir.path().join("first.tar");
    std::fs::write(&first_path, tar_of(&tar_entries(&first, "v1"))).expect("write");
    push_tarball(&first_path, None, &destination, &options)
        .await
        .expect("first push");
    // The same image again under the same tag: already there, not an error.
    let again = push_tarball(&first_path, None, &destination, &options)
        .await
        .expect("same image, same tag");
    assert!(again.already_present);
    let second = single_platform("second");
    let second_path = dir.path().join("second.tar");
    std::fs::write(&second_path, tar_of(&tar_entries(&second, "v1"))).expect("write");
    let err = push_tarball(&second_path, None, &destination, &options)
        .await
        .expect_err("another image under an immutable tag");
    assert!(err.to_string().contains("immutable"), "{err}");
    let stored = stored_manifest(&client, "cib/immutable", "v1").await;
    assert_eq!(
        stored.as_deref().map(str::as_bytes),
        Some(first.root.0.as_slice())
    );
}

/// Back-filling a replica region: the tag is copied from the home region's repository with
/// the same digest. moto stores no layer bytes (GetDownloadUrlForLayer is not implemented
/// there), so the replica is given the blobs first, as ECR replication would have; the copy
/// then reads the manifest from the home region and writes it, tagged, in the replica.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_missing_in_a_replica_region_is_copied_from_home_with_the_same_digest() {
    let moto = MotoServer::start();
    let home_client = ecr_client(&moto, REGION);
    let replica_client = ecr_client(&moto, "eu-west-1");
    create_repository(&home_client, "cib/api").await;
    create_repository(&replica_client, "cib/api").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("api.tar");
    let layout = multi_platform();
    std::fs::write(&path, tar_of(&tar_entries(&layout, "v1"))).expect("write");
    let home = EcrRepository::new(home_client, "cib/api");
    let replica = EcrRepository::new(replica_client.clone(), "cib/api");
    let pushed = push_tarball(
        &path,
        None,
        &home,
        &CopyOptions {
            tag: Tag::DigestHex,
            ..CopyOptions::default()
        },
    )
    .await
    .expect("push home");
    push_tarball(
        &path,
        None,
        &replica,
        &CopyOptions {
            tag: Tag::Untagged,
            ..CopyOptions::default()
        },
    )
    .await
    .expect("blobs in the replica");
    assert_eq!(
        stored_manifest(&replica_client, "cib/api", pushed.digest.hex()).await,
        None
    );

    let copied = copy_image(
        &home,
        &replica,
        pushed.digest.hex(),
        &CopyOptions::default(),
    )
    .await
    .expect("back-fill");
    assert_eq!(copied.digest, pushed.digest);
    assert_eq!(copied.tag.as_deref(), Some(pushed.digest.hex()));
    assert_eq!(copied.blobs_uploaded, 0);
    let stored = stored_manifest(&replica_client, "cib/api", pushed.digest.hex()).await;
    assert_eq!(
        stored.as_deref().map(str::as_bytes),
        Some(layout.root.0.as_slice())
    );
    // A tag the home region lacks fails with the call and the tag named.
    let err = copy_image(&home, &replica, "no-such-tag", &CopyOptions::default())
        .await
        .expect_err("missing tag");
    assert!(
        err.to_string().contains("BatchGetImage") && err.to_string().contains("no-such-tag"),
        "{err}"
    );
}
