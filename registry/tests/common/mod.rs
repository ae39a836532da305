//! Test fixtures: images written by hand (OCI layout directories and tars), Debian's
//! `skopeo` to convert them, Debian's `docker-registry` on a loopback port, and an ECR client
//! pointed at moto. A missing tool fails the test.

#![allow(dead_code)]

use std::fs;
use std::io::Write;
use std::path::Path;

use cib_registry::digest::Digest;
use cib_registry::manifest::MediaType;
use cib_registry::tar::write;
use cib_testkit::MotoServer;
use serde_json::json;

/// A layer: an uncompressed tar with one file, gzip-compressed. Returns (gzip bytes, diff id).
pub fn layer(file_name: &str, content: &[u8]) -> (Vec<u8>, Digest) {
    let mut tar = write::file(file_name, content);
    tar.extend(write::end());
    let diff_id = Digest::of(&tar);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).expect("gzip in memory");
    (gz.finish().expect("gzip in memory"), diff_id)
}

/// An image written into an OCI layout: its blobs and manifests.
pub struct Layout {
    /// Every blob by digest, manifests included.
    pub blobs: Vec<(Digest, Vec<u8>)>,
    /// The root manifest's bytes, digest and media type (what index.json points to).
    pub root: (Vec<u8>, Digest, &'static str),
}

fn descriptor(media_type: &str, bytes: &[u8]) -> serde_json::Value {
    json!({"mediaType": media_type, "digest": Digest::of(bytes).as_str(), "size": bytes.len()})
}

/// One platform's image: a config and `layers` gzip layers; returns (manifest bytes, blobs).
pub fn image(arch: &str, layers: &[(&str, Vec<u8>)]) -> (Vec<u8>, Vec<(Digest, Vec<u8>)>) {
    let mut blobs = Vec::new();
    let mut layer_descriptors = Vec::new();
    let mut diff_ids = Vec::new();
    for (name, content) in layers {
        let (gz, diff_id) = layer(name, content);
        layer_descriptors.push(descriptor(MediaType::OCI_LAYER_GZIP, &gz));
        diff_ids.push(diff_id.to_string());
        blobs.push((Digest::of(&gz), gz));
    }
    let config = serde_json::to_vec(&json!({
        "architecture": arch,
        "os": "linux",
        "config": {"Cmd": ["/hello"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .expect("json");
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": MediaType::OCI_MANIFEST,
        "config": descriptor(MediaType::OCI_CONFIG, &config),
        "layers": layer_descriptors,
    }))
    .expect("json");
    blobs.push((Digest::of(&config), config));
    blobs.push((Digest::of(&manifest), manifest.clone()));
    (manifest, blobs)
}

/// A single-platform layout with two layers.
pub fn single_platform(seed: &str) -> Layout {
    let (manifest, blobs) = image(
        "amd64",
        &[
            ("hello", format!("hello from {seed}\n").into_bytes()),
            (
                "data.bin",
                (0..300_000u32).map(|i| (i % 251) as u8).collect(),
            ),
        ],
    );
    let digest = Digest::of(&manifest);
    Layout {
        blobs,
        root: (manifest, digest, MediaType::OCI_MANIFEST),
    }
}

/// A two-platform layout: an OCI index over amd64 and arm64 manifests.
pub fn multi_platform() -> Layout {
    let (amd, mut blobs) = image("amd64", &[("hello", b"amd64\n".to_vec())]);
    let (arm, arm_blobs) = image("arm64", &[("hello", b"arm64\n".to_vec())]);
    blobs.extend(arm_blobs);
    let entry = |bytes: &[u8], arch: &str| {
        let mut d = descriptor(MediaType::OCI_MANIFEST, bytes);
        d["platform"] = json!({"architecture": arch, "os": "linux"});
        d
    };
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": MediaType::OCI_INDEX,
        "manifests": [entry(&amd, "amd64"), entry(&arm, "arm64")],
    }))
    .expect("json");
    let digest = Digest::of(&index);
    blobs.push((digest.clone(), index.clone()));
    Layout {
        blobs,
        root: (index, digest, MediaType::OCI_INDEX),
    }
}

/// `index.json` naming the root as `ref_name`.
pub fn index_json(layout: &Layout, ref_name: &str) -> Vec<u8> {
    let (bytes, _, media_type) = &layout.root;
    let mut d = descriptor(media_type, bytes);
    d["annotations"] = json!({"org.opencontainers.image.ref.name": ref_name});
    serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [d]})).expect("json")
}

/// Writes the layout as a directory (for skopeo's `oci:` transport).
pub fn write_dir(layout: &Layout, dir: &Path, ref_name: &str) {
    fs::create_dir_all(dir.join("blobs/sha256")).expect("mkdir");
    fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).expect("write");
    fs::write(dir.join("index.json"), index_json(layout, ref_name)).expect("write");
    for (digest, bytes) in &layout.blobs {
        fs::write(dir.join("blobs/sha256").join(digest.hex()), bytes).expect("write");
    }
}

/// The layout's tar entries, as our own writer puts them (callers may alter them).
pub fn tar_entries(layout: &Layout, ref_name: &str) -> Vec<(String, Vec<u8>)> {
    let mut entries = vec![
        (
            "oci-layout".to_owned(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ),
        ("index.json".to_owned(), index_json(layout, ref_name)),
    ];
    for (digest, bytes) in &layout.blobs {
        entries.push((format!("blobs/sha256/{}", digest.hex()), bytes.clone()));
    }
    entries
}

/// A tar of entries.
pub fn tar_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in entries {
        out.extend(write::file(name, data));
    }
    out.extend(write::end());
    out
}

#[allow(unused_imports)] // each test binary uses a different part
pub use cib_testkit::oci_registry::{LocalRegistry, skopeo};

/// An ECR client pointed at moto in `region`.
pub fn ecr_client(moto: &MotoServer, region: &str) -> aws_sdk_ecr::Client {
    let config = aws_sdk_ecr::Config::builder()
        .behavior_version(aws_sdk_ecr::config::BehaviorVersion::latest())
        .region(aws_sdk_ecr::config::Region::new(region.to_owned()))
        .endpoint_url(moto.endpoint())
        .credentials_provider(aws_sdk_ecr::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .build();
    aws_sdk_ecr::Client::from_conf(config)
}

/// Creates a repository in moto.
pub async fn create_repository(client: &aws_sdk_ecr::Client, name: &str) {
    client
        .create_repository()
        .repository_name(name)
        .send()
        .await
        .expect("create repository");
}

/// The manifest ECR stores under `tag`, as text.
pub async fn stored_manifest(
    client: &aws_sdk_ecr::Client,
    repository: &str,
    tag: &str,
) -> Option<String> {
    let out = client
        .batch_get_image()
        .repository_name(repository)
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
        .map(str::to_owned)
}

/// Every image id in a repository.
pub async fn image_count(client: &aws_sdk_ecr::Client, repository: &str) -> usize {
    client
        .list_images()
        .repository_name(repository)
        .send()
        .await
        .expect("list images")
        .image_ids()
        .len()
}
