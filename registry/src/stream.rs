//! Blob streams: chunks of bytes that end in an error if the content is not what its
//! descriptor says. Nothing here holds a whole blob.

use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt, stream};

use crate::digest::{Digest, Hasher};
use crate::error::{Error, Result};
use crate::manifest::Descriptor;
use crate::tar::{Entry, ReadAt};

/// How much of a blob is read at a time.
pub const CHUNK_BYTES: usize = 1 << 20;

/// A blob's content, in chunks.
pub type BlobStream = Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>;

/// Wraps `inner` so that it yields an error, instead of its end, when the content does not
/// hash to `descriptor.digest` or its length differs from `descriptor.size`; and an error
/// as soon as it runs past the declared size. `origin` names where it came from.
pub fn verified(inner: BlobStream, descriptor: &Descriptor, origin: String) -> BlobStream {
    struct State {
        inner: BlobStream,
        hasher: Option<Hasher>,
        seen: u64,
        expected: u64,
        digest: Digest,
        origin: String,
    }
    let state = State {
        inner,
        hasher: Some(Hasher::new()),
        seen: 0,
        expected: descriptor.size,
        digest: descriptor.digest.clone(),
        origin,
    };
    Box::pin(stream::unfold(state, |mut s| async move {
        let hasher = s.hasher.as_mut()?;
        match s.inner.next().await {
            Some(Ok(chunk)) => {
                s.seen += chunk.len() as u64;
                if s.seen > s.expected {
                    let err = Error::SizeMismatch {
                        digest: s.digest.clone(),
                        origin: s.origin.clone(),
                        expected: s.expected,
                        actual: s.seen,
                    };
                    s.hasher = None;
                    return Some((Err(err), s));
                }
                hasher.update(&chunk);
                Some((Ok(chunk), s))
            }
            Some(Err(e)) => {
                s.hasher = None;
                Some((Err(e), s))
            }
            None => {
                let hasher = s.hasher.take()?;
                if s.seen != s.expected {
                    let err = Error::SizeMismatch {
                        digest: s.digest.clone(),
                        origin: s.origin.clone(),
                        expected: s.expected,
                        actual: s.seen,
                    };
                    return Some((Err(err), s));
                }
                let actual = hasher.finish();
                if actual != s.digest {
                    let err = Error::DigestMismatch {
                        digest: s.digest.clone(),
                        origin: s.origin.clone(),
                        actual: actual.to_string(),
                    };
                    return Some((Err(err), s));
                }
                None
            }
        }
    }))
}

/// Streams one tar entry's data from the archive, a chunk at a time, each read on tokio's
/// blocking pool. `label` names the archive in I/O errors.
pub fn entry_stream(archive: Arc<dyn ReadAt>, entry: &Entry, label: String) -> BlobStream {
    let end = entry.offset + entry.size;
    let state = (archive, entry.offset, end, label, entry.name.clone());
    Box::pin(stream::unfold(Some(state), |state| async move {
        let (archive, pos, end, label, name) = state?;
        if pos >= end {
            return None;
        }
        let want = usize::try_from(end - pos)
            .unwrap_or(CHUNK_BYTES)
            .min(CHUNK_BYTES);
        let read_archive = Arc::clone(&archive);
        let read = tokio::task::spawn_blocking(move || {
            let mut buf = vec![0u8; want];
            crate::tar::read_exact_at(read_archive.as_ref(), &mut buf, pos).map(|()| buf)
        })
        .await;
        match read {
            Ok(Ok(buf)) => Some((
                Ok(Bytes::from(buf)),
                Some((archive, pos + want as u64, end, label, name)),
            )),
            Ok(Err(source)) => Some((
                Err(Error::Io {
                    path: format!("{label} (entry `{name}`)"),
                    source,
                }),
                None,
            )),
            Err(join) => Some((
                Err(Error::Io {
                    path: format!("{label} (entry `{name}`)"),
                    source: std::io::Error::other(join.to_string()),
                }),
                None,
            )),
        }
    }))
}
