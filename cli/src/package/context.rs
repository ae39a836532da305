//! Reading a build context directory from disk: the only I/O of packaging besides S3.
//!
//! Regular files are read; a symbolic link to a file is read through; a symbolic link to a
//! directory is not followed (a loop would never end) and is skipped. Empty directories
//! are not kept (zip entries are files only). `.dockerignore` at the root decides what is
//! left out, except the Dockerfile, which is always kept.

use std::fs;
use std::path::{Path, PathBuf};

use super::archive::Entry;
use super::dockerignore::DockerIgnore;

/// Reading the context failed.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// A file or directory could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// What could not be read.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `.dockerignore` has a pattern that cannot be used.
    #[error("{0}")]
    Pattern(#[from] super::dockerignore::PatternError),
    /// A file name is not valid UTF-8 (zip entry names must be).
    #[error("file name is not UTF-8: {0}")]
    Name(PathBuf),
    /// The Dockerfile is not in the context.
    #[error("the Dockerfile `{dockerfile}` is not in {dir}")]
    NoDockerfile {
        /// The context directory.
        dir: PathBuf,
        /// The Dockerfile path inside it.
        dockerfile: String,
    },
}

/// Reads every file of `dir` that `.dockerignore` keeps (and `dockerfile`, always), as
/// archive entries with paths relative to `dir`.
pub fn read(dir: &Path, dockerfile: &str) -> Result<Vec<Entry>, ContextError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ContextError::Io { path, source }
    };
    let ignore_path = dir.join(".dockerignore");
    let ignore = match fs::read_to_string(&ignore_path) {
        Ok(text) => DockerIgnore::parse(&text)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => DockerIgnore::default(),
        Err(e) => return Err(io(&ignore_path)(e)),
    };
    let dockerfile = normalize(dockerfile);
    let mut entries = Vec::new();
    let mut pending = vec![(dir.to_owned(), String::new())];
    while let Some((path, relative)) = pending.pop() {
        for item in fs::read_dir(&path).map_err(io(&path))? {
            let item = item.map_err(io(&path))?;
            let name = item.file_name();
            let name = name
                .to_str()
                .ok_or_else(|| ContextError::Name(item.path()))?;
            let child = if relative.is_empty() {
                name.to_owned()
            } else {
                format!("{relative}/{name}")
            };
            let file_type = item.file_type().map_err(io(&item.path()))?;
            if file_type.is_dir() {
                pending.push((item.path(), child));
                continue;
            }
            let metadata = fs::metadata(item.path()).map_err(io(&item.path()))?;
            if !metadata.is_file() || (ignore.is_excluded(&child) && child != dockerfile) {
                continue;
            }
            let content = fs::read(item.path()).map_err(io(&item.path()))?;
            entries.push(Entry {
                path: child,
                content,
                executable: is_executable(&metadata),
            });
        }
    }
    if !entries.iter().any(|e| e.path == dockerfile) {
        return Err(ContextError::NoDockerfile {
            dir: dir.to_owned(),
            dockerfile,
        });
    }
    Ok(entries)
}

/// `./docker//Dockerfile` → `docker/Dockerfile`.
fn normalize(path: &str) -> String {
    path.split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(unix)]
fn is_executable(metadata: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_metadata: &fs::Metadata) -> bool {
    false
}
