//! A tar reader that never extracts: it scans the headers once and records where each
//! regular file's data lies, so blobs can be streamed later straight from the archive.
//!
//! Formats: POSIX ustar with pax extended headers (`path`, `size`), and GNU long names
//! (`L`), which is what Go's `archive/tar` (skopeo, buildah, kaniko, Docker), Python's
//! `tarfile` and GNU tar write. Anything that could make a reader look outside the archive
//! or elsewhere than the named entry is refused with the entry's name: absolute paths, `..`
//! components, links that leave the archive or reach no file, device nodes, duplicate
//! names, and data that would end past the end of the file. A link inside the archive
//! (`docker save` links repeated layers) is read as its target's data: nothing is ever
//! written to disk, so it cannot redirect a write.

use std::collections::HashMap;
use std::io;

use crate::error::{Error, Result};

/// Size of a tar block.
const BLOCK: u64 = 512;
/// The largest pax header or GNU long name we read (real ones are a few hundred bytes).
const MAX_META_BYTES: u64 = 1 << 20;
/// The most entries an image tarball may have (an image has a few hundred at most).
pub const MAX_ENTRIES: usize = 100_000;

/// Random-access reads from an archive: a local file, or anything that can serve a byte
/// range. Implemented for [`std::fs::File`] with positioned reads, so several blobs can
/// stream from one open file at once.
pub trait ReadAt: Send + Sync {
    /// The archive's length in bytes.
    fn size(&self) -> u64;
    /// Reads up to `buf.len()` bytes at `offset`; 0 only at the end.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
}

impl ReadAt for std::fs::File {
    fn size(&self) -> u64 {
        self.metadata().map(|m| m.len()).unwrap_or(0)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(self, buf, offset)
    }
}

/// A file held in memory (for tests and small archives).
impl ReadAt for Vec<u8> {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.len());
        let end = start.saturating_add(buf.len()).min(self.len());
        let n = end - start;
        buf[..n].copy_from_slice(&self[start..end]);
        Ok(n)
    }
}

/// Fills `buf` from `offset`, or fails with `UnexpectedEof`.
pub fn read_exact_at(src: &dyn ReadAt, buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = src.read_at(&mut buf[filled..], offset)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        filled += n;
        offset += n as u64;
    }
    Ok(())
}

/// One regular file in the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its normalized path (no leading `./`, no empty or `.` components).
    pub name: String,
    /// Where its data starts in the archive.
    pub offset: u64,
    /// Its size in bytes.
    pub size: u64,
}

/// The regular files of an archive, by normalized name.
#[derive(Debug, Default)]
pub struct Index {
    entries: HashMap<String, Entry>,
}

impl Index {
    /// Adds `entry` under its normalized name; a name already present is an error naming
    /// the entry as the archive spells it (`raw_name`).
    fn insert_new(&mut self, raw_name: String, entry: Entry) -> Result<()> {
        if self.entries.contains_key(&entry.name) {
            return Err(Error::Entry {
                entry: raw_name,
                reason: "appears twice in the archive".into(),
            });
        }
        self.entries.insert(entry.name.clone(), entry);
        Ok(())
    }

    /// The entry named `name` (normalized form).
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.get(name)
    }

    /// Every entry, in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// Number of regular files.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the archive has no regular file.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Metadata carried over from a pax header or GNU long name to the next entry.
#[derive(Default)]
struct Pending {
    path: Option<String>,
    size: Option<u64>,
}

/// Scans every header of the archive; `label` names the archive in errors.
pub fn scan(src: &dyn ReadAt, label: &str) -> Result<Index> {
    let len = src.size();
    let mut index = Index::default();
    let mut pending = Pending::default();
    let mut pos: u64 = 0;
    let mut previous = String::from("(start of archive)");
    // (name as written, normalized name, resolved target, target as written)
    let mut links: Vec<(String, String, String, String)> = Vec::new();
    loop {
        if pos >= len {
            // No end-of-archive blocks: accepted (a truncation at an entry boundary loses
            // whole entries, and a missing blob is reported where it is referenced).
            break;
        }
        let mut header = [0u8; BLOCK as usize];
        if pos + BLOCK > len {
            return Err(Error::Entry {
                entry: previous,
                reason: format!(
                    "the archive is truncated: a header at offset {pos} is cut off at {len} bytes"
                ),
            });
        }
        read_exact_at(src, &mut header, pos).map_err(|e| io_error(label, e))?;
        if header.iter().all(|&b| b == 0) {
            break;
        }
        verify_checksum(&header).map_err(|reason| Error::Entry {
            entry: format!("header at offset {pos} (after `{previous}`)"),
            reason,
        })?;
        let raw_name = header_name(&header);
        let name_for_errors = pending.path.clone().unwrap_or_else(|| raw_name.clone());
        let entry_error = |reason: String| Error::Entry {
            entry: name_for_errors.clone(),
            reason,
        };
        let size = match pending.size {
            Some(size) => size,
            None => parse_number(&header[124..136]).map_err(entry_error)?,
        };
        let data = pos + BLOCK;
        let end = data
            .checked_add(size)
            .filter(|&end| end <= len)
            .ok_or_else(|| {
                entry_error(format!(
                    "declares {size} bytes of data, but the archive ends {} bytes after its header \
                 (truncated, or a false size)",
                    len - data
                ))
            })?;
        let typeflag = header[156];
        match typeflag {
            b'x' | b'L' => {
                if size > MAX_META_BYTES {
                    return Err(entry_error(format!(
                        "a {size}-byte extended header (at most {MAX_META_BYTES} accepted)"
                    )));
                }
                let mut meta = vec![0u8; size as usize];
                read_exact_at(src, &mut meta, data).map_err(|e| io_error(label, e))?;
                if typeflag == b'L' {
                    let name = String::from_utf8_lossy(&meta)
                        .trim_end_matches('\0')
                        .to_owned();
                    pending.path = Some(name);
                } else {
                    apply_pax(&meta, &mut pending).map_err(entry_error)?;
                }
            }
            b'g' | b'K' => {}
            b'0' | 0 | b'7' | b'5' => {
                let name = pending.path.take().unwrap_or(raw_name);
                pending = Pending::default();
                let normalized = normalize(&name).map_err(|reason| Error::Entry {
                    entry: name.clone(),
                    reason,
                })?;
                if typeflag != b'5' && !name.ends_with('/') {
                    if index.entries.len() >= MAX_ENTRIES {
                        return Err(Error::Entry {
                            entry: name,
                            reason: format!("more than {MAX_ENTRIES} files in one image tarball"),
                        });
                    }
                    index.insert_new(
                        name.clone(),
                        Entry {
                            name: normalized,
                            offset: data,
                            size,
                        },
                    )?;
                }
                previous = name;
            }
            b'1' | b'2' => {
                let name = pending.path.take().unwrap_or(raw_name);
                pending = Pending::default();
                let target = field_str(&header[157..257]);
                let normalized = normalize(&name).map_err(|reason| Error::Entry {
                    entry: name.clone(),
                    reason,
                })?;
                // A symbolic link's target is relative to the link's directory; a hard
                // link's to the archive's root.
                let base = if typeflag == b'2' {
                    normalized
                        .rsplit_once('/')
                        .map(|(dir, _)| dir)
                        .unwrap_or("")
                } else {
                    ""
                };
                let resolved = resolve_link(base, &target).map_err(|reason| Error::Entry {
                    entry: name.clone(),
                    reason: format!("is a link to `{target}`, which {reason}"),
                })?;
                links.push((name.clone(), normalized, resolved, target));
                previous = name;
            }
            other => {
                let name = pending.path.take().unwrap_or(raw_name);
                return Err(Error::Entry {
                    entry: name,
                    reason: format!(
                        "has tar entry type `{}`; only regular files and directories are accepted",
                        char::from(other).escape_default()
                    ),
                });
            }
        }
        pos = end.div_ceil(BLOCK) * BLOCK;
    }
    resolve_links(&mut index, links)?;
    Ok(index)
}

/// The most links followed to reach a file.
const MAX_LINK_HOPS: usize = 8;

/// Makes each link an alias of the regular file it reaches (following links to links a
/// few hops). `docker save` and skopeo's `docker-archive:` write a layer once and link
/// every other name of it, so links inside the archive are read; a link that leaves the
/// archive or reaches nothing is an error naming it.
fn resolve_links(index: &mut Index, links: Vec<(String, String, String, String)>) -> Result<()> {
    let targets: HashMap<String, String> = links
        .iter()
        .map(|(_, normalized, resolved, _)| (normalized.clone(), resolved.clone()))
        .collect();
    for (name, normalized, resolved, target) in links {
        let mut current = resolved;
        let mut hops = 0;
        let entry = loop {
            if let Some(entry) = index.entries.get(&current) {
                break entry.clone();
            }
            match targets.get(&current) {
                Some(next) if hops < MAX_LINK_HOPS => {
                    current = next.clone();
                    hops += 1;
                }
                _ => {
                    return Err(Error::Entry {
                        entry: name,
                        reason: format!(
                            "is a link to `{target}`, which is not a file in the archive"
                        ),
                    });
                }
            }
        };
        index.insert_new(
            name,
            Entry {
                name: normalized,
                ..entry
            },
        )?;
    }
    Ok(())
}

/// The archive path a link target names, from the directory `base`; refuses absolute
/// targets and targets that climb out of the archive.
fn resolve_link(base: &str, target: &str) -> Result<String, String> {
    if target.starts_with('/') {
        return Err("is an absolute path outside the archive".into());
    }
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err("climbs out of the archive".into());
                }
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return Err("names no file".into());
    }
    Ok(parts.join("/"))
}

fn io_error(label: &str, source: io::Error) -> Error {
    Error::Io {
        path: label.to_owned(),
        source,
    }
}

/// Normalizes an entry path; refuses absolute paths and `..`.
pub fn normalize(name: &str) -> Result<String, String> {
    if name.is_empty() {
        return Err("has an empty name".into());
    }
    if name.starts_with('/') {
        return Err("is an absolute path; entries must stay inside the archive".into());
    }
    if name.chars().any(|c| c.is_control()) {
        return Err("has a control character in its name".into());
    }
    let mut parts = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err("has a `..` component; entries must stay inside the archive".into()),
            other => parts.push(other),
        }
    }
    Ok(parts.join("/"))
}

fn field_str(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

fn header_name(header: &[u8; 512]) -> String {
    let name = field_str(&header[0..100]);
    let ustar = &header[257..262] == b"ustar";
    let gnu = &header[257..265] == b"ustar  \0";
    if ustar && !gnu {
        let prefix = field_str(&header[345..500]);
        if !prefix.is_empty() {
            return format!("{prefix}/{name}");
        }
    }
    name
}

fn verify_checksum(header: &[u8; 512]) -> Result<(), String> {
    let stored = parse_number(&header[148..156])?;
    let sum: u64 = header
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum();
    if stored != sum {
        return Err(format!(
            "header checksum is {stored}, the header sums to {sum}: not a tar archive, or corrupt"
        ));
    }
    Ok(())
}

/// A numeric header field: octal text, or GNU base-256 when the high bit is set.
fn parse_number(field: &[u8]) -> Result<u64, String> {
    if field.first().is_some_and(|&b| b & 0x80 != 0) {
        if field[0] == 0xff {
            return Err("has a negative size".into());
        }
        let mut value: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            value = value
                .checked_mul(256)
                .and_then(|v| v.checked_add(u64::from(b)))
                .ok_or("has a size field that overflows 64 bits")?;
        }
        return Ok(value);
    }
    let text = field_str(field);
    let text = text.trim_matches(|c: char| c == ' ' || c == '\0');
    if text.is_empty() {
        return Ok(0);
    }
    u64::from_str_radix(text, 8).map_err(|_| format!("has a malformed number field `{text}`"))
}

/// Applies `path` and `size` records of a pax extended header.
fn apply_pax(meta: &[u8], pending: &mut Pending) -> Result<(), String> {
    let mut rest = meta;
    while !rest.is_empty() {
        let space = rest
            .iter()
            .position(|&b| b == b' ')
            .ok_or("malformed pax record (no length)")?;
        let len: usize = std::str::from_utf8(&rest[..space])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or("malformed pax record length")?;
        if len <= space + 1 || len > rest.len() {
            return Err("pax record length out of range".into());
        }
        let record = &rest[space + 1..len];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        let eq = record
            .iter()
            .position(|&b| b == b'=')
            .ok_or("malformed pax record (no `=`)")?;
        let key = &record[..eq];
        let value = String::from_utf8_lossy(&record[eq + 1..]).into_owned();
        match key {
            b"path" => pending.path = Some(value),
            b"size" => {
                pending.size = Some(
                    value
                        .parse()
                        .map_err(|_| format!("pax size `{value}` is not a number"))?,
                );
            }
            _ => {}
        }
        rest = &rest[len..];
    }
    Ok(())
}

/// Writes tar archives in memory, for tests (including hostile ones).
pub mod write {
    /// One header plus data, padded; `typeflag` b'0' for a file, b'2' for a symlink.
    pub fn entry(name: &str, typeflag: u8, link: &str, data: &[u8], declared_size: u64) -> Vec<u8> {
        let mut header = [0u8; 512];
        let n = name.as_bytes();
        header[..n.len().min(100)].copy_from_slice(&n[..n.len().min(100)]);
        header[100..108].copy_from_slice(b"0000644\0");
        header[108..116].copy_from_slice(b"0000000\0");
        header[116..124].copy_from_slice(b"0000000\0");
        let size = format!("{declared_size:011o}\0");
        if size.len() == 12 {
            header[124..136].copy_from_slice(size.as_bytes());
        } else {
            header[124] = 0x80;
            header[128..136].copy_from_slice(&declared_size.to_be_bytes());
        }
        header[136..148].copy_from_slice(b"00000000000\0");
        header[156] = typeflag;
        let l = link.as_bytes();
        header[157..157 + l.len().min(100)].copy_from_slice(&l[..l.len().min(100)]);
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        header[148..156].copy_from_slice(b"        ");
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        let mut out = header.to_vec();
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
        out
    }

    /// A regular file entry.
    pub fn file(name: &str, data: &[u8]) -> Vec<u8> {
        entry(name, b'0', "", data, data.len() as u64)
    }

    /// The end-of-archive marker.
    pub fn end() -> Vec<u8> {
        vec![0u8; 1024]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(parts: &[Vec<u8>]) -> Vec<u8> {
        let mut out: Vec<u8> = parts.concat();
        out.extend(write::end());
        out
    }

    #[test]
    fn finds_files_with_their_offsets() {
        let tar = archive(&[write::file("./a/b.txt", b"hello"), write::file("c", b"")]);
        let index = scan(&tar, "t").map_err(|e| e.to_string());
        let index = index.as_ref().map_err(String::as_str);
        let entry = index.map(|i| i.get("a/b.txt").cloned());
        assert_eq!(
            entry,
            Ok(Some(Entry {
                name: "a/b.txt".into(),
                offset: 512,
                size: 5
            }))
        );
    }

    fn scan_err(tar: &[u8]) -> String {
        match scan(&tar.to_vec(), "t") {
            Ok(_) => String::from("(accepted)"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn hostile_entries_are_named() {
        let e = scan_err(&archive(&[write::file("../etc/passwd", b"x")]));
        assert!(e.contains("../etc/passwd") && e.contains(".."), "{e}");
        let e = scan_err(&archive(&[write::file("/abs", b"x")]));
        assert!(e.contains("/abs") && e.contains("absolute"), "{e}");
        let e = scan_err(&archive(&[write::entry(
            "blobs/sha256/x",
            b'2',
            "/etc/shadow",
            b"",
            0,
        )]));
        assert!(
            e.contains("blobs/sha256/x") && e.contains("/etc/shadow"),
            "{e}"
        );
        let e = scan_err(&archive(&[write::entry(
            "a/x",
            b'2',
            "../../etc/shadow",
            b"",
            0,
        )]));
        assert!(e.contains("a/x") && e.contains("climbs out"), "{e}");
        let e = scan_err(&archive(&[write::entry("a/x", b'2', "missing", b"", 0)]));
        assert!(e.contains("a/x") && e.contains("not a file"), "{e}");
        let huge = 10u64 << 30;
        let e = scan_err(&archive(&[write::entry("big", b'0', "", b"abc", huge)]));
        assert!(e.contains("big") && e.contains(&huge.to_string()), "{e}");
        let mut cut = archive(&[write::file("whole", &[7u8; 2000])]);
        cut.truncate(1200);
        let e = scan_err(&cut);
        assert!(e.contains("whole") && e.contains("truncated"), "{e}");
        let e = scan_err(&archive(&[
            write::file("a", b"1"),
            write::file("./a", b"2"),
        ]));
        assert!(e.contains("twice"), "{e}");
    }

    #[test]
    fn links_inside_the_archive_alias_their_target() {
        let tar = archive(&[
            write::file("abc.tar", b"layer"),
            write::entry("id/layer.tar", b'2', "../abc.tar", b"", 0),
            write::entry("id2/layer.tar", b'2', "../id/layer.tar", b"", 0),
        ]);
        let index = scan(&tar, "t").map_err(|e| e.to_string());
        let sizes = index.map(|i| {
            (
                i.get("id/layer.tar").map(|e| e.offset),
                i.get("id2/layer.tar").map(|e| e.offset),
            )
        });
        assert_eq!(sizes, Ok((Some(512), Some(512))));
    }

    #[test]
    fn pax_path_and_size_apply_to_the_next_entry() {
        let long = format!("blobs/sha256/{}", "a".repeat(120));
        let record_body = format!("path={long}\n");
        let mut len = record_body.len() + 2;
        while len != len.to_string().len() + 1 + record_body.len() {
            len = len.to_string().len() + 1 + record_body.len();
        }
        let record = format!("{len} {record_body}");
        let tar = archive(&[
            write::entry(
                "PaxHeader",
                b'x',
                "",
                record.as_bytes(),
                record.len() as u64,
            ),
            write::file("short", b"data"),
        ]);
        let index = scan(&tar, "t").map_err(|e| e.to_string());
        assert_eq!(index.map(|i| i.get(&long).map(|e| e.size)), Ok(Some(4)));
    }
}
