//! The blob store of each backend: files for SQLite, the database for
//! PostgreSQL. Content-addressed, idempotent, streamed, and nothing left
//! behind by a write that fails.

use smartship_core::manifest::sha256_hex;
use smartship_store::blobs::BlobStore;
use smartship_store::postgres::blobs::CHUNK;
use smartship_store::test_db::{Backend, TestDb, backends};
use std::io;

/// A reader that fails after yielding `ok` bytes.
struct Broken {
    ok: usize,
}

impl io::Read for Broken {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.ok == 0 {
            return Err(io::Error::other("the client went away"));
        }
        let n = buf.len().min(self.ok).min(10_000);
        buf[..n].fill(9);
        self.ok -= n;
        Ok(n)
    }
}

async fn blob_store(backend: Backend) -> (TestDb, BlobStore, tempfile::TempDir) {
    let db = TestDb::new(backend).await;
    let store = smartship_store::open(db.url()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let blobs = store.blobs(&dir.path().join("blobs")).unwrap();
    (db, blobs, dir)
}

/// Runs the blocking calls of a blob store where they belong.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_are_addressed_by_content_on_both_backends() {
    for backend in backends() {
        let (_db, blobs, _dir) = blob_store(backend).await;
        blocking(move || {
            let (d1, new1) = blobs.put(b"hello").unwrap();
            let (d2, new2) = blobs.put(b"hello").unwrap();
            assert_eq!(d1, sha256_hex(b"hello"));
            assert_eq!(d1, d2);
            assert!(new1 && !new2, "{backend:?}");
            assert_eq!(blobs.get(&d1).unwrap(), b"hello");
            let (empty, _) = blobs.put(b"").unwrap();
            assert_eq!(blobs.get(&empty).unwrap(), b"");
            assert_eq!(blobs.usage().unwrap(), (2, 5), "{backend:?}");
            // Not a digest: never a path or another key.
            for bad in ["../../etc/passwd", "pending:1:2:3", &d1.to_uppercase()] {
                let e = blobs.get(bad).unwrap_err();
                assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{backend:?} {bad}");
            }
            let absent = sha256_hex(b"never stored");
            assert_eq!(
                blobs.get(&absent).unwrap_err().kind(),
                io::ErrorKind::NotFound,
                "{backend:?}"
            );
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_blobs_of_many_chunks_match_buffered_ones_on_both_backends() {
    for backend in backends() {
        let (_db, blobs, _dir) = blob_store(backend).await;
        blocking(move || {
            // Exactly one chunk, one byte more, and several chunks.
            for size in [CHUNK, CHUNK + 1, 1_000_003] {
                let content: Vec<u8> = (0..size).map(|i| (i % 253) as u8).collect();
                let r = blobs.put_reader(&mut content.as_slice()).unwrap();
                assert_eq!(
                    (r.sha256.as_str(), r.size),
                    (sha256_hex(&content).as_str(), size as u64)
                );
                assert_eq!(blobs.get(&r.sha256).unwrap(), content, "{backend:?} {size}");
                let again = blobs.put_reader(&mut content.as_slice()).unwrap();
                assert_eq!(again, r);
                let (digest, new) = blobs.put(&content).unwrap();
                assert_eq!((digest, new), (r.sha256.clone(), false));
            }
            let (count, _) = blobs.usage().unwrap();
            assert_eq!(count, 3, "{backend:?}");
            // A reader failing midway, after several chunks: nothing stays.
            assert!(blobs.put_reader(&mut Broken { ok: 700_000 }).is_err());
            assert_eq!(blobs.usage().unwrap().0, 3, "{backend:?}");
            assert_eq!(std::fs::read_dir(blobs.tmp_dir()).unwrap().count(), 0);
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_of_the_same_content_all_succeed_on_both_backends() {
    for backend in backends() {
        let (db, blobs, _dir) = blob_store(backend).await;
        let content: std::sync::Arc<Vec<u8>> =
            std::sync::Arc::new((0..600_000u32).map(|i| (i % 241) as u8).collect());
        let mut writers = Vec::new();
        for i in 0..8 {
            let (blobs, content) = (blobs.clone(), content.clone());
            writers.push(tokio::task::spawn_blocking(move || {
                if i % 2 == 0 {
                    blobs.put(&content).map(|(d, _)| d)
                } else {
                    blobs.put_reader(&mut content.as_slice()).map(|r| r.sha256)
                }
            }));
        }
        for w in writers {
            assert_eq!(w.await.unwrap().unwrap(), sha256_hex(&content));
        }
        let check = blobs.clone();
        let usage = blocking(move || check.usage().unwrap()).await;
        assert_eq!(usage, (1, 600_000), "{backend:?}");
        if backend == Backend::Postgres {
            // No chunk of a losing writer is left under its pending key.
            db.execute(&format!(
                "DO $$ BEGIN IF (SELECT COUNT(*) FROM blob_chunks) <> {} THEN \
                 RAISE EXCEPTION 'stray chunks'; END IF; END $$",
                600_000usize.div_ceil(CHUNK)
            ))
            .await;
        }
    }
}
