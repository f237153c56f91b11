//! Content-addressed blobs: the files of drafts, templates and built
//! packages, each kept once under the SHA-256 of its bytes.
//!
//! Where they live is the store's choice ([`crate::Store::blobs`]): an
//! embedded (SQLite) installation keeps them as files beside its database
//! ([`files`]); a PostgreSQL installation keeps them in the database
//! ([`crate::postgres::blobs`]), so that every node reads what any node
//! wrote and a node keeps nothing on its local disk but the scratch files
//! of requests in flight.
//!
//! The methods block: call them from a blocking thread
//! (`tokio::task::spawn_blocking`), as the streaming readers of uploads
//! and the builds already run. A PostgreSQL blob store drives its queries
//! on the runtime the blocking thread belongs to.

pub mod files;

use crate::postgres::blobs::PgBlobs;
use files::FileBlobs;
use smartship_core::manifest::FileRef;
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct BlobStore {
    place: Place,
    /// Scratch files of uploads in flight, removed at open.
    scratch: PathBuf,
}

#[derive(Debug, Clone)]
enum Place {
    Files(FileBlobs),
    Postgres(PgBlobs),
}

impl BlobStore {
    /// Blobs as files under `root` (`root/ab/cdef…`).
    pub fn open_files(root: impl Into<PathBuf>) -> io::Result<BlobStore> {
        let root = root.into();
        Ok(BlobStore {
            place: Place::Files(FileBlobs::open(&root)?),
            scratch: root.join("tmp"),
        })
    }

    /// Blobs in a PostgreSQL database, with scratch files under
    /// `local/tmp`.
    pub fn in_postgres(blobs: PgBlobs, local: &Path) -> io::Result<BlobStore> {
        let scratch = local.join("tmp");
        clear_scratch(&scratch)?;
        Ok(BlobStore {
            place: Place::Postgres(blobs),
            scratch,
        })
    }

    /// Where uploads are buffered before they are read (emptied at open).
    pub fn tmp_dir(&self) -> PathBuf {
        self.scratch.clone()
    }

    /// Stores `bytes`, returning its digest and whether it was new.
    pub fn put(&self, bytes: &[u8]) -> io::Result<(String, bool)> {
        match &self.place {
            Place::Files(f) => f.put(bytes),
            Place::Postgres(p) => block_on(p.put(bytes)),
        }
    }

    /// Stores what `reader` yields, hashing as it goes, so that a file is
    /// never held in memory whole. Returns its reference.
    pub fn put_reader(&self, reader: &mut dyn io::Read) -> io::Result<FileRef> {
        match &self.place {
            Place::Files(f) => f.put_reader(reader),
            Place::Postgres(p) => block_on(p.put_reader(reader)).map(|(r, _)| r),
        }
    }

    /// The bytes of one blob (one file of a package, not a package).
    pub fn get(&self, sha256: &str) -> io::Result<Vec<u8>> {
        match &self.place {
            Place::Files(f) => f.get(sha256),
            Place::Postgres(p) => block_on(p.get(sha256)),
        }
    }

    /// Number of blobs and their total size (for operators and tests).
    pub fn usage(&self) -> io::Result<(u64, u64)> {
        match &self.place {
            Place::Files(f) => f.usage(),
            Place::Postgres(p) => block_on(p.usage()),
        }
    }

    /// Removes every blob that is not in `referenced` and was last stored
    /// (written, or put again while it existed) before `cutoff` (Unix ms).
    ///
    /// Why it is safe against a write in flight: a writer puts its blobs
    /// first and inserts the row that names them after, and every put marks
    /// the blob as stored now, even when it already existed. A blob named
    /// by a row inserted after `referenced` was read was therefore put
    /// after `cutoff`, as long as `cutoff` lies further back than the
    /// longest write takes (the grace period, `blob_gc_grace_secs`).
    pub fn collect(
        &self,
        referenced: &std::collections::HashSet<String>,
        cutoff: i64,
    ) -> io::Result<Collected> {
        match &self.place {
            Place::Files(f) => f.collect(referenced, cutoff),
            Place::Postgres(p) => block_on(p.collect(referenced, cutoff)),
        }
    }
}

/// What a collection removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Collected {
    pub blobs: u64,
    pub bytes: u64,
}

/// Adds to `out` every digest a stored manifest names (`"sha256":"<hex>"`,
/// whatever the manifest's shape).
pub fn digests_in_manifest(json: &str, out: &mut std::collections::HashSet<String>) {
    const KEY: &str = "\"sha256\":\"";
    let mut rest = json;
    while let Some(at) = rest.find(KEY) {
        rest = &rest[at + KEY.len()..];
        if let Some(hex) = rest.get(..64)
            && check_digest(hex).is_ok()
        {
            out.insert(hex.to_owned());
        }
    }
}

/// Runs a query of a PostgreSQL blob store to its end on the runtime of
/// the calling (blocking) thread.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Handle::current().block_on(f)
}

/// A blob's name is a SHA-256 in lower-case hex, nothing else (no path,
/// no other key of the store's tables).
pub(crate) fn check_digest(sha256: &str) -> io::Result<()> {
    if sha256.len() != 64
        || !sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a sha256 hex digest",
        ));
    }
    Ok(())
}

/// Creates `dir` and removes what interrupted writes (a crash, a full
/// disk) left in it: nothing there is ever read back.
pub(crate) fn clear_scratch(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut removed = 0u64;
    for entry in std::fs::read_dir(dir)?.flatten() {
        if std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    if removed > 0 {
        tracing::info!(removed, dir = %dir.display(), "removed temporary files of interrupted writes");
    }
    Ok(())
}
