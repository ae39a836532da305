//! The tarball reader on files real tools wrote (skopeo's `oci-archive:` and
//! `docker-archive:`) and on hostile tarballs.

mod common;

use std::sync::Arc;

use cib_registry::archive::Format;
use cib_registry::copy::Source;
use cib_registry::manifest::{MediaType, Parsed};
use cib_registry::tar::write;
use cib_registry::{Digest, Tarball};
use common::*;
use futures_util::TryStreamExt;

fn open_bytes(bytes: Vec<u8>) -> Result<Tarball, String> {
    Tarball::from_reader(Arc::new(bytes), "test.tar".into(), None).map_err(|e| e.to_string())
}

/// Reads every blob of the image through the verified streams; returns total bytes.
async fn read_all(tarball: &Tarball) -> Result<u64, String> {
    let mut total = 0;
    let root = tarball.root().clone();
    let mut manifests = vec![root.clone()];
    if let Ok(Parsed::Index {
        manifests: children,
    }) = root.parse()
    {
        for child in children {
            manifests.push(
                tarball
                    .manifest(child.digest.as_str(), None)
                    .await
                    .map_err(|e| e.to_string())?,
            );
        }
    }
    for manifest in manifests {
        if let Ok(Parsed::Image { config, layers }) = manifest.parse() {
            for blob in std::iter::once(config).chain(layers) {
                let stream = tarball.blob(&blob).await.map_err(|e| e.to_string())?;
                let chunks: Vec<bytes::Bytes> =
                    stream.try_collect().await.map_err(|e| e.to_string())?;
                total += chunks.iter().map(|c| c.len() as u64).sum::<u64>();
            }
        }
    }
    Ok(total)
}

#[tokio::test]
async fn skopeo_oci_archive_reads_back_the_same_manifest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let layout = single_platform("oci-archive");
    write_dir(&layout, &dir.path().join("layout"), "v1");
    let archive = dir.path().join("image.tar");
    skopeo(&[
        "copy",
        &format!("oci:{}:v1", dir.path().join("layout").display()),
        &format!("oci-archive:{}:v1", archive.display()),
    ]);
    let tarball = Tarball::open(&archive, None).expect("open skopeo oci-archive");
    assert_eq!(tarball.format(), Format::OciLayout);
    // skopeo copies an OCI image without recompressing: the manifest is ours, byte for byte.
    assert_eq!(tarball.root().bytes.as_ref(), layout.root.0.as_slice());
    assert_eq!(tarball.root().media_type, MediaType::OCI_MANIFEST);
    assert!(read_all(&tarball).await.expect("read blobs") > 1000);
}

#[tokio::test]
async fn skopeo_docker_archive_gets_a_manifest_of_its_layers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let layout = single_platform("docker-archive");
    write_dir(&layout, &dir.path().join("layout"), "v1");
    let archive = dir.path().join("image.tar");
    skopeo(&[
        "copy",
        &format!("oci:{}:v1", dir.path().join("layout").display()),
        &format!("docker-archive:{}:example/app:v1", archive.display()),
    ]);
    let tarball = Tarball::open(&archive, None).expect("open skopeo docker-archive");
    assert_eq!(tarball.format(), Format::DockerArchive);
    let Ok(Parsed::Image { config, layers }) = tarball.root().parse() else {
        panic!("a docker archive gives an image manifest");
    };
    assert_eq!(layers.len(), 2);
    // The config is the one we wrote; its diff ids are the uncompressed layers.
    let config_blob = layout.blobs.iter().find(|(d, _)| *d == config.digest);
    assert!(
        config_blob.is_some(),
        "config {} kept byte for byte",
        config.digest
    );
    for layer in &layers {
        assert!(
            [MediaType::OCI_LAYER_TAR, MediaType::OCI_LAYER_GZIP]
                .contains(&layer.media_type.as_str()),
            "{}",
            layer.media_type
        );
    }
    assert!(read_all(&tarball).await.expect("read blobs") > 1000);
    // Opening twice gives the same manifest (same digest, same tag on a second push).
    let again = Tarball::open(&archive, None).expect("reopen");
    assert_eq!(again.root().digest, tarball.root().digest);
    // A name that is not in the archive is refused with the names it has.
    let err = Tarball::open(&archive, Some("other:v2")).expect_err("unknown name");
    assert!(err.to_string().contains("example/app:v1"), "{err}");
}

#[tokio::test]
async fn skopeo_multi_platform_archive_is_an_index_with_every_platform() {
    let dir = tempfile::tempdir().expect("tempdir");
    let layout = multi_platform();
    write_dir(&layout, &dir.path().join("layout"), "v1");
    let archive = dir.path().join("image.tar");
    skopeo(&[
        "copy",
        "--all",
        &format!("oci:{}:v1", dir.path().join("layout").display()),
        &format!("oci-archive:{}:v1", archive.display()),
    ]);
    let tarball = Tarball::open(&archive, None).expect("open");
    assert_eq!(tarball.root().media_type, MediaType::OCI_INDEX);
    assert_eq!(tarball.root().digest, layout.root.1);
    let Ok(Parsed::Index { manifests }) = tarball.root().parse() else {
        panic!("index expected");
    };
    assert_eq!(manifests.len(), 2);
    read_all(&tarball).await.expect("every platform's blobs");
}

fn hostile(entries: Vec<(String, Vec<u8>)>) -> String {
    match open_bytes(tar_of(&entries)) {
        Ok(_) => String::from("(accepted)"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn hostile_tarballs_fail_naming_the_entry() {
    let layout = single_platform("hostile");
    let good = tar_entries(&layout, "v1");
    assert!(open_bytes(tar_of(&good)).is_ok());
    let blob_name = |d: &Digest| format!("blobs/sha256/{}", d.hex());
    let (layer_digest, _) = &layout.blobs[0];

    // A `../` path.
    let mut entries = good.clone();
    entries.push(("../../etc/cron.d/x".into(), b"x".to_vec()));
    let e = hostile(entries);
    assert!(e.contains("../../etc/cron.d/x") && e.contains(".."), "{e}");

    // A symlink where a blob should be.
    let mut tar = Vec::new();
    for (name, data) in &good {
        if *name == blob_name(layer_digest) {
            tar.extend(write::entry(name, b'2', "/etc/shadow", b"", 0));
        } else {
            tar.extend(write::file(name, data));
        }
    }
    tar.extend(write::end());
    let e = open_bytes(tar).err().unwrap_or_default();
    assert!(
        e.contains(&blob_name(layer_digest)) && e.contains("/etc/shadow"),
        "{e}"
    );

    // A 10 GB declared size.
    let mut tar = tar_of(&good[..2]);
    tar.truncate(tar.len() - 1024);
    tar.extend(write::entry(
        &blob_name(layer_digest),
        b'0',
        "",
        b"tiny",
        10 << 30,
    ));
    tar.extend(write::end());
    let e = open_bytes(tar).err().unwrap_or_default();
    assert!(
        e.contains(&blob_name(layer_digest)) && e.contains("10737418240"),
        "{e}"
    );

    // Truncated in the middle of the last blob.
    let mut tar = tar_of(&good);
    tar.truncate(tar.len() - 1024 - 600);
    let e = open_bytes(tar).err().unwrap_or_default();
    assert!(
        e.contains("blobs/sha256/") && e.contains("truncated"),
        "{e}"
    );

    // A missing blob.
    let entries: Vec<_> = good
        .iter()
        .filter(|(n, _)| *n != blob_name(layer_digest))
        .cloned()
        .collect();
    let e = hostile(entries);
    assert!(
        e.contains(layer_digest.as_str()) && e.contains("not in"),
        "{e}"
    );

    // An unknown manifest media type.
    let strange = br#"{"schemaVersion":2,"mediaType":"application/vnd.example.strange+json","config":{},"layers":[]}"#.to_vec();
    let strange_digest = Digest::of(&strange);
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.example.strange+json",
        "digest": strange_digest.as_str(), "size": strange.len()}]});
    let entries = vec![
        (
            "oci-layout".to_owned(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ),
        (
            "index.json".to_owned(),
            serde_json::to_vec(&index).unwrap_or_default(),
        ),
        (blob_name(&strange_digest), strange),
    ];
    let e = hostile(entries);
    assert!(e.contains("application/vnd.example.strange+json"), "{e}");

    // A manifest whose bytes do not match their digest.
    let (manifest_bytes, manifest_digest, _) = &layout.root;
    let mut entries = good.clone();
    for (name, data) in entries.iter_mut() {
        if *name == blob_name(manifest_digest) {
            *data = manifest_bytes.clone();
            data[manifest_bytes.len() - 2] = b' ';
        }
    }
    let e = hostile(entries);
    assert!(
        e.contains(&blob_name(manifest_digest)) && e.contains("hashes to"),
        "{e}"
    );

    // A layer whose bytes do not match its digest: found while streaming it.
    let mut entries = good.clone();
    for (name, data) in entries.iter_mut() {
        if *name == blob_name(layer_digest) {
            data[10] ^= 0xff;
        }
    }
    let tarball = open_bytes(tar_of(&entries)).expect("opens; blobs are verified as they stream");
    let e = read_all(&tarball).await.err().unwrap_or_default();
    assert!(
        e.contains(&blob_name(layer_digest)) && e.contains("hashes to"),
        "{e}"
    );
}

#[test]
fn a_gzip_compressed_tarball_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("image.tar.gz");
    let (gz, _) = layer("x", b"y");
    std::fs::write(&path, gz).expect("write");
    let e = Tarball::open(&path, None)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("gunzip"), "{e}");
}
