//! Benchmark (not a test): push a generated 1 GiB image in 5 layers from an OCI layout
//! tarball to moto's ECR, and copy it from the reference registry into ECR; report bytes/s
//! and this process's peak RSS. Beside it, `skopeo copy` of the same tarball into the
//! reference registry, the nearest job skopeo can do between the same local endpoints.
//!
//! `cargo bench -p cib-registry --bench push` (needs moto in the venv, skopeo and
//! docker-registry). `CIB_BENCH_MIB` changes the image size.

#[path = "../tests/common/mod.rs"]
mod common;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use cib_registry::copy::{CopyOptions, Tag};
use cib_registry::digest::{Digest, Hasher};
use cib_registry::manifest::MediaType;
use cib_registry::tar::write;
use cib_registry::{EcrRepository, ImageReference, RegistryClient, copy_image, push_tarball};
use cib_testkit::MotoServer;
use serde_json::json;

const LAYERS: u64 = 5;

/// Deterministic incompressible bytes for layer `n`.
fn fill(n: u64, offset: u64, buf: &mut [u8]) {
    let mut x = (n + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ offset;
    for chunk in buf.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let bytes = x.to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
}

/// Streams layer `n` (one file of `size` bytes in a tar, uncompressed) to `out`.
fn write_layer(n: u64, size: u64, out: &mut dyn FnMut(&[u8])) {
    let header = write::entry(&format!("data-{n}.bin"), b'0', "", &[], size);
    out(&header);
    let mut buf = vec![0u8; 1 << 20];
    let mut done = 0;
    while done < size {
        let len = (size - done).min(buf.len() as u64) as usize;
        fill(n, done, &mut buf[..len]);
        out(&buf[..len]);
        done += len as u64;
    }
    let pad = (512 - size % 512) % 512;
    out(&vec![0u8; pad as usize + 1024]);
}

fn layer_len(size: u64) -> u64 {
    512 + size.div_ceil(512) * 512 + 1024
}

/// Writes the image as an OCI layout tarball without holding a layer in memory.
fn generate(path: &Path, total: u64) -> u64 {
    let per_layer = total / LAYERS;
    let mut layers = Vec::new();
    for n in 0..LAYERS {
        let mut hasher = Hasher::new();
        write_layer(n, per_layer, &mut |b| hasher.update(b));
        layers.push((hasher.finish(), layer_len(per_layer)));
    }
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|(d, _)| d.as_str()).collect::<Vec<_>>()},
    }))
    .unwrap_or_default();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": MediaType::OCI_MANIFEST,
        "config": {"mediaType": MediaType::OCI_CONFIG, "digest": Digest::of(&config).as_str(), "size": config.len()},
        "layers": layers.iter().map(|(d, s)| json!({"mediaType": MediaType::OCI_LAYER_TAR, "digest": d.as_str(), "size": s})).collect::<Vec<_>>(),
    }))
    .unwrap_or_default();
    let index = serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [{
        "mediaType": MediaType::OCI_MANIFEST, "digest": Digest::of(&manifest).as_str(), "size": manifest.len(),
        "annotations": {"org.opencontainers.image.ref.name": "bench"}}]}))
    .unwrap_or_default();
    let file = File::create(path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut put = |b: &[u8]| out.write_all(b).unwrap_or_else(|e| panic!("write: {e}"));
    put(&write::file(
        "oci-layout",
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    ));
    put(&write::file("index.json", &index));
    put(&write::file(
        &format!("blobs/sha256/{}", Digest::of(&config).hex()),
        &config,
    ));
    put(&write::file(
        &format!("blobs/sha256/{}", Digest::of(&manifest).hex()),
        &manifest,
    ));
    for (n, (digest, size)) in layers.iter().enumerate() {
        put(&write::entry(
            &format!("blobs/sha256/{}", digest.hex()),
            b'0',
            "",
            &[],
            *size,
        ));
        write_layer(n as u64, per_layer, &mut put);
        let pad = (512 - size % 512) % 512;
        put(&vec![0u8; pad as usize]);
    }
    put(&write::end());
    out.flush().unwrap_or_else(|e| panic!("flush: {e}"));
    layers.iter().map(|(_, s)| s).sum()
}

/// Peak resident set size of this process (VmHWM), in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// CPU seconds this process has used, every thread counted (user + system, `/proc/self/stat`
/// fields 14 and 15, in clock ticks of 1/100 s: Linux's `USER_HZ` on every architecture it
/// exports to user space).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name (field 2) may hold spaces; the fields after it follow its `)`.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    // After `)`: field 3 (state) is index 0, so utime (14) is 11 and stime (15) is 12.
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds per GiB moved.
fn cpu_per_gib(cpu: f64, bytes: u64) -> String {
    format!(
        "{:.2} CPU s/GiB",
        cpu / (bytes as f64 / (1u64 << 30) as f64)
    )
}

/// Resets the peak RSS counter (Linux: writing 5 to clear_refs).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn rate(bytes: u64, seconds: f64) -> String {
    format!("{:.1} MiB/s", bytes as f64 / (1 << 20) as f64 / seconds)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let mib: u64 = std::env::var("CIB_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let tarball = dir.path().join("bench.tar");
    let started = Instant::now();
    let bytes = generate(&tarball, mib << 20);
    println!(
        "generated {} in {LAYERS} layers in {:.1}s",
        bytes,
        started.elapsed().as_secs_f64()
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let moto = MotoServer::start();
    let client = common::ecr_client(&moto, "us-east-1");
    runtime.block_on(common::create_repository(&client, "bench/push"));
    runtime.block_on(common::create_repository(&client, "bench/copy"));
    runtime.block_on(common::create_repository(&client, "bench/serial"));

    reset_peak();
    let started = Instant::now();
    let cpu_before = cpu_seconds();
    let destination = EcrRepository::new(client.clone(), "bench/push");
    let report = runtime
        .block_on(push_tarball(
            &tarball,
            None,
            &destination,
            &CopyOptions {
                tag: Tag::DigestHex,
                ..CopyOptions::default()
            },
        ))
        .unwrap_or_else(|e| panic!("push: {e}"));
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    println!(
        "push tarball -> moto ECR: {} bytes in {seconds:.1}s = {}, peak RSS {:.0} MiB ({} blobs), {cpu:.1} CPU s = {}",
        report.bytes_uploaded,
        rate(report.bytes_uploaded, seconds),
        peak_rss_mib(),
        report.blobs_uploaded,
        cpu_per_gib(cpu, report.bytes_uploaded)
    );
    let started = Instant::now();
    let again = runtime
        .block_on(push_tarball(
            &tarball,
            None,
            &destination,
            &CopyOptions {
                tag: Tag::DigestHex,
                ..CopyOptions::default()
            },
        ))
        .unwrap_or_else(|e| panic!("second push: {e}"));
    println!(
        "second push: {} blobs uploaded, {:.2}s",
        again.blobs_uploaded,
        started.elapsed().as_secs_f64()
    );

    // One blob at a time: the memory a single large layer needs.
    reset_peak();
    let started = Instant::now();
    let serial = EcrRepository::new(client.clone(), "bench/serial");
    let options = CopyOptions {
        tag: Tag::DigestHex,
        parallel_blobs: 1,
        ..CopyOptions::default()
    };
    let report = runtime
        .block_on(push_tarball(&tarball, None, &serial, &options))
        .unwrap_or_else(|e| panic!("serial push: {e}"));
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "push tarball -> moto ECR, one blob at a time: {} bytes in {seconds:.1}s = {}, peak RSS {:.0} MiB",
        report.bytes_uploaded,
        rate(report.bytes_uploaded, seconds),
        peak_rss_mib()
    );

    let registry = common::LocalRegistry::start();
    let started = Instant::now();
    common::skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        &format!("oci-archive:{}:bench", tarball.display()),
        &format!("docker://{}/bench/image:v1", registry.host),
    ]);
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "skopeo copy tarball -> docker-registry: {bytes} bytes in {seconds:.1}s = {}",
        rate(bytes, seconds)
    );

    reset_peak();
    let started = Instant::now();
    let reference = ImageReference::parse(&format!("{}/bench/image:v1", registry.host))
        .unwrap_or_else(|e| panic!("reference: {e}"));
    let source = RegistryClient::new(&reference, None).unwrap_or_else(|e| panic!("client: {e}"));
    let copy_destination = EcrRepository::new(client, "bench/copy");
    let copied = runtime
        .block_on(copy_image(
            &source,
            &copy_destination,
            "v1",
            &CopyOptions::default(),
        ))
        .unwrap_or_else(|e| panic!("copy: {e}"));
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "copy docker-registry -> moto ECR: {} bytes in {seconds:.1}s = {}, peak RSS {:.0} MiB",
        copied.bytes_uploaded,
        rate(copied.bytes_uploaded, seconds),
        peak_rss_mib()
    );
}
