//! Reading the template and writing the result: standard input for `-`, and
//! atomic output files (a temporary file in the target's directory, renamed over it).

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Reading or writing a file failed.
#[derive(Debug)]
pub struct IoError {
    /// The file concerned (`-` for standard input or output).
    pub path: PathBuf,
    /// What was being done, e.g. "cannot read".
    pub action: &'static str,
    /// The underlying error.
    pub source: io::Error,
}

impl std::fmt::Display for IoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.action,
            self.path.display(),
            self.source
        )
    }
}

impl std::error::Error for IoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// True when `path` means standard input (or output): `-`.
pub fn is_stdio(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Reads the whole template from `path`, or from standard input when it is `-`.
///
/// At most one byte more than the engine reads (`MAX_INPUT_BYTES`) is read, so a huge input
/// costs no more memory than that; the engine then refuses it by its size.
pub fn read_input(path: &Path) -> Result<Vec<u8>, IoError> {
    let limit = cib_engine::template::MAX_INPUT_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    let result = if is_stdio(path) {
        io::stdin().lock().take(limit).read_to_end(&mut bytes)
    } else {
        fs::File::open(path).and_then(|file| file.take(limit).read_to_end(&mut bytes))
    }
    .map(|_| bytes);
    result.map_err(|source| IoError {
        path: path.to_owned(),
        action: "cannot read",
        source,
    })
}

/// Writes `text` to standard output. A closed pipe (`cib expand t.yaml | head`) is not an error.
pub fn write_stdout(text: &str) -> Result<(), IoError> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(IoError {
            path: PathBuf::from("-"),
            action: "cannot write",
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Writes `text` to `path` atomically: into a temporary file in the same directory,
/// flushed to disk, then renamed over `path`. Readers see the old file or the new
/// one, never a half-written one; on failure `path` is left as it was.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), IoError> {
    let fail = |action, source| IoError {
        path: path.to_owned(),
        action,
        source,
    };
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".cib-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Like any new file (0666 less the umask), not the temporary file's private 0600.
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let mut file = builder
        .tempfile_in(dir)
        .map_err(|e| fail("cannot create a temporary file for", e))?;
    // A file being replaced keeps its permissions (a private file stays private).
    if let Ok(existing) = fs::metadata(path) {
        file.as_file()
            .set_permissions(existing.permissions())
            .map_err(|e| fail("cannot set permissions of the temporary file for", e))?;
    }
    file.write_all(text.as_bytes())
        .and_then(|()| file.as_file().sync_all())
        .map_err(|e| fail("cannot write", e))?;
    file.persist(path)
        .map_err(|e| fail("cannot replace", e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dash_is_stdio_and_a_file_named_dash_dash_is_not() {
        assert!(is_stdio(Path::new("-")));
        assert!(!is_stdio(Path::new("--")));
        assert!(!is_stdio(Path::new("./-")));
    }

    #[test]
    fn atomic_write_replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("out.yaml");
        fs::write(&target, "old\n").expect("seed");
        write_atomic(&target, "new\n").expect("write");
        assert_eq!(fs::read_to_string(&target).expect("read"), "new\n");
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("list")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.yaml")]);
    }

    #[cfg(unix)]
    #[test]
    fn atomic_write_keeps_the_permissions_of_the_file_it_replaces() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("private.yaml");
        fs::write(&target, "old\n").expect("seed");
        fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).expect("chmod");
        write_atomic(&target, "new\n").expect("write");
        let mode = fs::metadata(&target).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn atomic_write_into_a_missing_directory_fails_cleanly() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("missing").join("out.yaml");
        let err = write_atomic(&target, "x").expect_err("must fail");
        assert!(err.to_string().contains("out.yaml"), "{err}");
        assert!(!target.exists());
    }

    #[test]
    fn reading_a_missing_file_names_it() {
        let err = read_input(Path::new("/nonexistent/t.yaml")).expect_err("must fail");
        assert!(
            err.to_string()
                .starts_with("cannot read /nonexistent/t.yaml")
        );
    }
}
