//! Blobs on the local file system: the embedded installation's.
//!
//! `root/ab/cdef…` holds the bytes whose SHA-256 is `abcdef…`. Writing is
//! idempotent (an existing blob is not rewritten) and crash-safe: bytes go
//! to a temporary file that is fsynced and then renamed into place, so a
//! blob path either holds the complete content or does not exist.

use smartship_core::manifest::{FileRef, sha256_hex};
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// Marks an existing blob as stored now (see `BlobStore::collect`).
fn touch(path: &std::path::Path) -> io::Result<()> {
    std::fs::File::options()
        .write(true)
        .open(path)?
        .set_modified(std::time::SystemTime::now())
}

#[derive(Debug, Clone)]
pub struct FileBlobs {
    root: PathBuf,
}

impl FileBlobs {
    /// Opens the store, removing what an interrupted write (a crash, a full
    /// disk) left in `tmp/`: nothing there is ever read back.
    pub fn open(root: impl Into<PathBuf>) -> io::Result<FileBlobs> {
        let root = root.into();
        super::clear_scratch(&root.join("tmp"))?;
        Ok(FileBlobs { root })
    }

    /// The blobs under `root`, to be read only: nothing is created or
    /// removed (the source of `db copy`).
    pub fn existing(root: impl Into<PathBuf>) -> FileBlobs {
        FileBlobs { root: root.into() }
    }

    fn path_of(&self, sha256: &str) -> io::Result<PathBuf> {
        super::check_digest(sha256)?;
        Ok(self.root.join(&sha256[..2]).join(&sha256[2..]))
    }

    /// Stores `bytes`, returning its digest. Returns whether it was new.
    pub fn put(&self, bytes: &[u8]) -> io::Result<(String, bool)> {
        let digest = sha256_hex(bytes);
        let path = self.path_of(&digest)?;
        if path.exists() {
            touch(&path)?;
            return Ok((digest, false));
        }
        std::fs::create_dir_all(path.parent().expect("blob paths have a parent"))?;
        // A temporary name unique to this write: two builds storing the same
        // new file at once must not share (and steal) one temporary file.
        let tmp = self.temp_path(&digest);
        let written = (|| {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        })();
        if written.is_err() {
            // A full disk must not leave partial files behind for good.
            let _ = std::fs::remove_file(&tmp);
        }
        written?;
        Ok((digest, true))
    }

    /// A fresh temporary path in `tmp/`, unique to this write.
    fn temp_path(&self, tag: &str) -> PathBuf {
        static WRITES: AtomicU64 = AtomicU64::new(0);
        self.root.join("tmp").join(format!(
            "{tag}.{}.{}",
            std::process::id(),
            WRITES.fetch_add(1, Ordering::Relaxed)
        ))
    }

    /// Stores what `reader` yields, hashing as it writes, so a file is never
    /// held in memory whole. Returns its reference.
    pub fn put_reader(&self, reader: &mut dyn io::Read) -> io::Result<FileRef> {
        use sha2::Digest;
        use std::io::Write;
        let tmp = self.temp_path("stream");
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            let mut hasher = sha2::Sha256::new();
            let mut size = 0u64;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                hasher.update(&buf[..n]);
                f.write_all(&buf[..n])?;
                size += n as u64;
            }
            let digest = hex::encode(hasher.finalize());
            let path = self.path_of(&digest)?;
            if path.exists() {
                touch(&path)?;
            } else {
                f.sync_all()?;
                std::fs::create_dir_all(path.parent().expect("blob paths have a parent"))?;
                std::fs::rename(&tmp, &path)?;
            }
            Ok(FileRef {
                sha256: digest,
                size,
            })
        })();
        // Whatever happened, no partial file stays behind.
        let _ = std::fs::remove_file(&tmp);
        result
    }

    pub fn get(&self, sha256: &str) -> io::Result<Vec<u8>> {
        std::fs::read(self.path_of(sha256)?)
    }

    /// Number of blobs and their total size (for operators and tests).
    pub fn usage(&self) -> io::Result<(u64, u64)> {
        let mut count = 0;
        let mut bytes = 0;
        for dir in std::fs::read_dir(&self.root)? {
            let dir = dir?;
            if dir.file_name() == "tmp" || !dir.file_type()?.is_dir() {
                continue;
            }
            for f in std::fs::read_dir(dir.path())? {
                count += 1;
                bytes += f?.metadata()?.len();
            }
        }
        Ok((count, bytes))
    }

    /// Every blob's digest, in no particular order (what `db copy` moves).
    pub fn digests(&self) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        let dirs = match std::fs::read_dir(&self.root) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
            other => other?,
        };
        for dir in dirs {
            let dir = dir?;
            let prefix = dir.file_name().to_string_lossy().into_owned();
            if prefix == "tmp" || !dir.file_type()?.is_dir() {
                continue;
            }
            for f in std::fs::read_dir(dir.path())? {
                let digest = format!("{prefix}{}", f?.file_name().to_string_lossy());
                if super::check_digest(&digest).is_ok() {
                    out.push(digest);
                }
            }
        }
        Ok(out)
    }

    /// Removes the blobs not in `referenced` last stored before `cutoff`
    /// (Unix ms; a blob's modification time is when it was last put).
    pub fn collect(
        &self,
        referenced: &std::collections::HashSet<String>,
        cutoff: i64,
    ) -> io::Result<super::Collected> {
        let cutoff = std::time::UNIX_EPOCH + std::time::Duration::from_millis(cutoff.max(0) as u64);
        let mut done = super::Collected::default();
        for digest in self.digests()? {
            if referenced.contains(&digest) {
                continue;
            }
            let path = self.path_of(&digest)?;
            let meta = match std::fs::metadata(&path) {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            if meta.modified()? >= cutoff {
                continue;
            }
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    done.blobs += 1;
                    done.bytes += meta.len();
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    /// Opens a blob to be read as a stream.
    pub fn open_blob(&self, sha256: &str) -> io::Result<std::fs::File> {
        std::fs::File::open(self.path_of(sha256)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_keeps_what_is_named_or_was_put_again_lately() {
        let dir = tempfile::tempdir().unwrap();
        let b = FileBlobs::open(dir.path()).unwrap();
        let (kept, _) = b.put(b"named by a row").unwrap();
        let (old, _) = b.put(b"named by nothing").unwrap();
        let (again, _) = b.put(b"named by nothing yet").unwrap();
        let long_ago = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000);
        for d in [&kept, &old, &again] {
            let path = b.path_of(d).unwrap();
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(long_ago)
                .unwrap();
        }
        // An upload that reuses an old blob puts it again before its row
        // names it: the put marks it as stored now.
        assert!(!b.put(b"named by nothing yet").unwrap().1);
        let referenced = std::collections::HashSet::from([kept.clone()]);
        let cutoff = 2_000_000; // ms: after the old times, before now
        let done = b.collect(&referenced, cutoff).unwrap();
        assert_eq!(done.blobs, 1);
        assert!(b.get(&old).is_err());
        assert_eq!(b.get(&kept).unwrap(), b"named by a row");
        assert_eq!(b.get(&again).unwrap(), b"named by nothing yet");
        // The streamed put marks it too.
        let path = b.path_of(&again).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        b.put_reader(&mut &b"named by nothing yet"[..]).unwrap();
        assert_eq!(b.collect(&referenced, cutoff).unwrap().blobs, 0);
    }

    #[test]
    fn put_is_idempotent_and_addressed_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileBlobs::open(dir.path()).unwrap();
        let (d1, new1) = store.put(b"hello").unwrap();
        let (d2, new2) = store.put(b"hello").unwrap();
        assert_eq!(d1, d2);
        assert!(new1 && !new2);
        assert_eq!(store.get(&d1).unwrap(), b"hello");
        assert_eq!(store.usage().unwrap(), (1, 5));
        assert!(store.get("../../etc/passwd").is_err());
    }

    #[test]
    fn streamed_puts_match_buffered_ones_and_leave_nothing_in_tmp() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileBlobs::open(dir.path()).unwrap();
        let content = vec![3u8; 300_000];
        let r = store.put_reader(&mut content.as_slice()).unwrap();
        assert_eq!((r.sha256.clone(), r.size), (sha256_hex(&content), 300_000));
        assert_eq!(store.get(&r.sha256).unwrap(), content);
        let again = store.put_reader(&mut content.as_slice()).unwrap();
        assert_eq!(again, r);
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
        // A reader that fails midway leaves no partial file.
        struct Broken(u8);
        impl io::Read for Broken {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.0 += 1;
                if self.0 > 3 {
                    return Err(io::Error::other("gone"));
                }
                buf[0] = 1;
                Ok(1)
            }
        }
        assert!(store.put_reader(&mut Broken(0)).is_err());
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }

    #[test]
    fn opening_removes_what_interrupted_writes_left() {
        let dir = tempfile::tempdir().unwrap();
        FileBlobs::open(dir.path()).unwrap();
        std::fs::write(dir.path().join("tmp").join("abc.1.2"), b"partial").unwrap();
        FileBlobs::open(dir.path()).unwrap();
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }

    #[test]
    fn concurrent_writes_of_the_same_content_all_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileBlobs::open(dir.path()).unwrap();
        let content = vec![7u8; 1 << 20];
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| store.put(&content).map(|(d, _)| d)))
                .collect();
            for h in handles {
                h.join().unwrap().expect("every concurrent put succeeds");
            }
        });
        assert_eq!(store.usage().unwrap(), (1, 1 << 20));
    }
}
