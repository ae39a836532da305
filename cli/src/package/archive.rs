//! Deterministic zip archives of a build context, named by their content.
//!
//! The same files give the same bytes on any machine and at any time: entries sorted by
//! path, every timestamp 1980-01-01 00:00:00, mode 0644 (0755 for executables: `COPY`
//! keeps the bit, and git keeps it across clones), deflate at a fixed level, no extra
//! fields, no absolute paths. Pure: the caller lists and reads the files.

use std::io::{Cursor, Write};

use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// One file of the context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path relative to the context root, `/`-separated, no `.` or `..` segments.
    pub path: String,
    /// File content.
    pub content: Vec<u8>,
    /// Whether any execute bit was set.
    pub executable: bool,
}

/// A finished archive and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archive {
    /// The zip bytes.
    pub bytes: Vec<u8>,
    /// Lowercase hex SHA-256 of `bytes`.
    pub sha256: String,
}

/// Writing the archive failed (an entry too large for zip, which is the only case).
#[derive(Debug, thiserror::Error)]
#[error("cannot write the zip archive: {0}")]
pub struct ArchiveError(#[from] zip::result::ZipError);

/// Zips `entries` deterministically (they are sorted here; the input order does not matter).
pub fn build(entries: &[Entry]) -> Result<Archive, ArchiveError> {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    sorted.dedup_by(|a, b| a.path == b.path);
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for entry in sorted {
        let mode = if entry.executable { 0o755 } else { 0o644 };
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(6))
            .last_modified_time(DateTime::default())
            .unix_permissions(mode)
            .large_file(entry.content.len() >= 0xFFFF_FFFF);
        writer.start_file(entry.path.as_str(), options)?;
        writer
            .write_all(&entry.content)
            .map_err(zip::result::ZipError::Io)?;
    }
    let bytes = writer.finish()?.into_inner();
    let sha256 = hex::encode(Sha256::digest(&bytes));
    Ok(Archive { bytes, sha256 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, content: &str) -> Entry {
        Entry {
            path: path.into(),
            content: content.as_bytes().to_vec(),
            executable: false,
        }
    }

    fn archive(entries: &[Entry]) -> Archive {
        match build(entries) {
            Ok(a) => a,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn order_of_the_input_does_not_change_the_bytes() {
        let a = archive(&[
            entry("b.txt", "b"),
            entry("a/x", "x"),
            entry("Dockerfile", "FROM x"),
        ]);
        let b = archive(&[
            entry("Dockerfile", "FROM x"),
            entry("a/x", "x"),
            entry("b.txt", "b"),
        ]);
        assert_eq!(a, b);
        assert_eq!(a.sha256.len(), 64);
    }

    #[test]
    fn content_and_mode_change_the_hash() {
        let base = archive(&[entry("a", "1")]);
        assert_ne!(base.sha256, archive(&[entry("a", "2")]).sha256);
        let mut exec = entry("a", "1");
        exec.executable = true;
        assert_ne!(base.sha256, archive(&[exec]).sha256);
    }

    #[test]
    fn entries_are_sorted_with_fixed_times_and_modes() {
        let bytes = archive(&[entry("z", "z"), entry("a/b", "b")]).bytes;
        let mut zip = match zip::ZipArchive::new(Cursor::new(bytes)) {
            Ok(z) => z,
            Err(e) => panic!("{e}"),
        };
        let mut names = Vec::new();
        for index in 0..zip.len() {
            let file = match zip.by_index(index) {
                Ok(f) => f,
                Err(e) => panic!("{e}"),
            };
            names.push(file.name().map(|n| n.to_string()).unwrap_or_default());
            let time = file.last_modified().unwrap_or_default();
            assert_eq!((time.year(), time.month(), time.day()), (1980, 1, 1));
            assert_eq!(file.unix_mode().map(|m| m & 0o777), Some(0o644));
        }
        assert_eq!(names, vec!["a/b", "z"]);
    }
}
