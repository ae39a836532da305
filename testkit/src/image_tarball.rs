//! Image tarballs as real tools write them, offline: an OCI image layout written by hand
//! (a config, one uncompressed layer, a manifest), converted by Debian's `skopeo` into an
//! `oci-archive` or a `docker-archive` tar. A missing skopeo fails the test.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::oci_registry::skopeo;

/// The tar form skopeo writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `oci-archive:` (an OCI image layout in a tar; the manifest kept byte for byte).
    OciArchive,
    /// `docker-archive:` (`docker save`'s format; readers write the manifest anew).
    DockerArchive,
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// A tar holding one regular file `name` with `data` (ustar, as `tar` writes it).
pub fn tar_with_file(name: &str, data: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..name.len().min(100)].copy_from_slice(&name.as_bytes()[..name.len().min(100)]);
    header[100..107].copy_from_slice(b"0000644");
    header[108..115].copy_from_slice(b"0000000");
    header[116..123].copy_from_slice(b"0000000");
    header[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
    header[136..147].copy_from_slice(b"00000000000");
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
    header[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    let mut out = header.to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out.extend_from_slice(&[0u8; 1024]);
    out
}

/// Writes a single-platform OCI layout into `dir` (image `arch`, one layer holding a file
/// whose content depends on `seed`); returns the manifest's bytes.
pub fn write_layout(dir: &Path, arch: &str, seed: &str) -> Vec<u8> {
    let layer = tar_with_file("hello.txt", format!("hello from {seed}\n").as_bytes());
    let config = serde_json::to_vec(&json!({
        "architecture": arch,
        "os": "linux",
        "config": {"Cmd": ["/hello"]},
        "rootfs": {"type": "layers", "diff_ids": [sha256(&layer)]},
    }))
    .unwrap_or_default();
    let descriptor = |media_type: &str, bytes: &[u8]| json!({"mediaType": media_type, "digest": sha256(bytes), "size": bytes.len()});
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descriptor("application/vnd.oci.image.config.v1+json", &config),
        "layers": [descriptor("application/vnd.oci.image.layer.v1.tar", &layer)],
    }))
    .unwrap_or_default();
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "manifests": [descriptor("application/vnd.oci.image.manifest.v1+json", &manifest)],
    }))
    .unwrap_or_default();
    let blobs = dir.join("blobs/sha256");
    let write = |path: PathBuf, bytes: &[u8]| {
        if let Err(e) = fs::write(&path, bytes) {
            panic!("cannot write {}: {e}", path.display());
        }
    };
    if let Err(e) = fs::create_dir_all(&blobs) {
        panic!("cannot create {}: {e}", blobs.display());
    }
    write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#);
    write(dir.join("index.json"), &index);
    for bytes in [&layer, &config, &manifest] {
        let digest = sha256(bytes);
        write(blobs.join(&digest["sha256:".len()..]), bytes);
    }
    manifest
}

/// A tarball in `form`, written by skopeo from a hand-written layout (see
/// [`write_layout`]) under `work`; returns its path.
pub fn skopeo_tarball(work: &Path, arch: &str, seed: &str, form: Form) -> PathBuf {
    let layout = work.join(format!("layout-{arch}-{seed}"));
    write_layout(&layout, arch, seed);
    let (transport, name) = match form {
        Form::OciArchive => ("oci-archive", format!("{arch}-{seed}.oci.tar")),
        Form::DockerArchive => ("docker-archive", format!("{arch}-{seed}.docker.tar")),
    };
    let out = work.join(name);
    let reference = match form {
        Form::OciArchive => format!("{transport}:{}", out.display()),
        Form::DockerArchive => format!("{transport}:{}:cib/test:{seed}", out.display()),
    };
    skopeo(&["copy", &format!("oci:{}", layout.display()), &reference]);
    out
}
