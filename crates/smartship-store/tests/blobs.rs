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

/// Backdates a blob's last store to `at_ms` (the file's modification time,
/// or the row's `created_at`).
async fn backdate(backend: Backend, db: &TestDb, dir: &std::path::Path, digest: &str, at_ms: i64) {
    match backend {
        Backend::Sqlite => {
            let path = dir.join("blobs").join(&digest[..2]).join(&digest[2..]);
            let when = std::time::UNIX_EPOCH + std::time::Duration::from_millis(at_ms as u64);
            std::fs::File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_modified(when)
                .unwrap();
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
            sqlx::query("UPDATE blobs SET created_at = $2 WHERE sha256 = $1")
                .bind(digest)
                .bind(at_ms)
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collection_removes_only_old_blobs_no_row_names_on_both_backends() {
    for backend in backends() {
        let (db, blobs, dir) = blob_store(backend).await;
        let big = vec![7u8; CHUNK * 2 + 5];
        let b = blobs.clone();
        let big2 = big.clone();
        let (named, unnamed, reused, large) = blocking(move || {
            (
                b.put(b"named by a row").unwrap().0,
                b.put(b"named by nothing").unwrap().0,
                b.put(b"put again by an upload in flight").unwrap().0,
                b.put(&big2).unwrap().0,
            )
        })
        .await;
        for d in [&named, &unnamed, &reused, &large] {
            backdate(backend, &db, dir.path(), d, 1_000).await;
        }
        // An upload in flight stores a file that already exists: the put
        // marks it as stored now, before any row names it.
        let b = blobs.clone();
        blocking(move || {
            assert!(!b.put(b"put again by an upload in flight").unwrap().1);
        })
        .await;
        let referenced = std::collections::HashSet::from([named.clone()]);
        let cutoff = 1_000_000;
        let b = blobs.clone();
        let done = blocking(move || b.collect(&referenced, cutoff).unwrap()).await;
        assert_eq!(done.blobs, 2, "{backend:?}: the unnamed and the large one");
        assert_eq!(done.bytes, (b"named by nothing".len() + big.len()) as u64);
        let b = blobs.clone();
        blocking(move || {
            assert_eq!(b.get(&named).unwrap(), b"named by a row");
            assert_eq!(b.get(&reused).unwrap(), b"put again by an upload in flight");
            assert!(b.get(&unnamed).is_err(), "{backend:?}");
            assert!(b.get(&large).is_err(), "{backend:?}");
            // Collected content can be stored again.
            assert!(b.put(b"named by nothing").unwrap().1);
            assert_eq!(b.usage().unwrap().0, 3, "{backend:?}");
        })
        .await;
    }
}
