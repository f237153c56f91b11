//! Content-addressed blob store on the local file system.
//!
//! `root/ab/cdef…` holds the bytes whose SHA-256 is `abcdef…`. Writing is
//! idempotent (an existing blob is not rewritten) and crash-safe: bytes go
//! to a temporary file that is fsynced and then renamed into place, so a
//! blob path either holds the complete content or does not exist.

use smartship_core::manifest::sha256_hex;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    pub fn open(root: impl Into<PathBuf>) -> io::Result<BlobStore> {
        let root = root.into();
        std::fs::create_dir_all(root.join("tmp"))?;
        Ok(BlobStore { root })
    }

    fn path_of(&self, sha256: &str) -> io::Result<PathBuf> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a sha256 hex digest",
            ));
        }
        Ok(self.root.join(&sha256[..2]).join(&sha256[2..]))
    }

    /// Stores `bytes`, returning its digest. Returns whether it was new.
    pub fn put(&self, bytes: &[u8]) -> io::Result<(String, bool)> {
        let digest = sha256_hex(bytes);
        let path = self.path_of(&digest)?;
        if path.exists() {
            return Ok((digest, false));
        }
        std::fs::create_dir_all(path.parent().expect("blob paths have a parent"))?;
        // A temporary name unique to this write: two builds storing the same
        // new file at once must not share (and steal) one temporary file.
        static WRITES: AtomicU64 = AtomicU64::new(0);
        let tmp = self.root.join("tmp").join(format!(
            "{digest}.{}.{}",
            std::process::id(),
            WRITES.fetch_add(1, Ordering::Relaxed)
        ));
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        Ok((digest, true))
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

    pub fn root(&self) -> &Path {
        &self.root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_is_idempotent_and_addressed_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let (d1, new1) = store.put(b"hello").unwrap();
        let (d2, new2) = store.put(b"hello").unwrap();
        assert_eq!(d1, d2);
        assert!(new1 && !new2);
        assert_eq!(store.get(&d1).unwrap(), b"hello");
        assert_eq!(store.usage().unwrap(), (1, 5));
        assert!(store.get("../../etc/passwd").is_err());
    }

    #[test]
    fn concurrent_writes_of_the_same_content_all_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
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
