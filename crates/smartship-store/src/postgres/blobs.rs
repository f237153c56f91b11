//! Blobs of a PostgreSQL installation, kept in the database itself.
//!
//! Why there: every node of an installation reads what any node wrote
//! (a draft uploaded through one node is built by a worker on another),
//! the database is already the one thing the nodes share, and its backups
//! and replication then hold the packages with the rows that name them.
//! A separate object store would be one more service to run, to secure and
//! to keep consistent with the rows.
//!
//! A blob is a row of `blobs` (digest, size) and its bytes in
//! `blob_chunks`, [`CHUNK`] bytes per row, so that no statement carries a
//! whole package and memory holds one chunk while a blob streams in.
//! Writing is idempotent and atomic: a file whose digest is not known yet
//! (a stream) is written under a key of its own inside one transaction and
//! renamed to its digest at the end; if another writer stored the same
//! content meanwhile, the transaction is rolled back and nothing is left.
//! A crash mid-write leaves nothing either: the transaction never
//! committed.

use crate::blobs::check_digest;
use crate::error::StoreError;
use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};
use smartship_core::manifest::{FileRef, sha256_hex};
use sqlx::postgres::PgPool;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes per chunk row.
pub const CHUNK: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct PgBlobs {
    pool: PgPool,
}

/// A database error as an I/O error of the blob store, its text the
/// store's (never the SQL).
fn io_error(e: sqlx::Error) -> io::Error {
    StoreError::from(e).into_io()
}

/// Reads until `buf` is full or the reader ends; returns how much it read.
fn fill(reader: &mut dyn io::Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The key a stream's chunks are written under until its digest is known:
/// not a digest (so never read as a blob), unique among concurrent writers
/// of every node (process id, a counter and a random part).
fn pending_key() -> String {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    format!(
        "pending:{}:{}:{:016x}",
        std::process::id(),
        WRITES.fetch_add(1, Ordering::Relaxed),
        rand::random::<u64>()
    )
}

impl PgBlobs {
    pub fn new(pool: PgPool) -> PgBlobs {
        PgBlobs { pool }
    }

    /// Stores `bytes`; returns its digest and whether it was new.
    pub async fn put(&self, bytes: &[u8]) -> io::Result<(String, bool)> {
        if bytes.len() > CHUNK {
            let digest = sha256_hex(bytes);
            if self.touch(&digest).await? {
                return Ok((digest, false));
            }
            let (r, new) = self.put_reader(&mut &bytes[..]).await?;
            return Ok((r.sha256, new));
        }
        let digest = sha256_hex(bytes);
        let new = self.put_small(&digest, bytes).await?;
        Ok((digest, new))
    }

    /// One chunk's blob in one statement: the blob row, and its chunk only
    /// if the row is new.
    async fn put_small(&self, digest: &str, bytes: &[u8]) -> io::Result<bool> {
        // An existing row is marked as stored now (`created_at`: when the
        // blob was last put; see `BlobStore::collect`); its chunk is written
        // only when the row is new (`xmax = 0`).
        let done = sqlx::query(
            "WITH b AS (INSERT INTO blobs (sha256, size, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (sha256) DO UPDATE SET created_at = EXCLUDED.created_at \
             RETURNING sha256, xmax = 0 AS inserted) \
             INSERT INTO blob_chunks (sha256, seq, data) SELECT sha256, 0, $4 FROM b WHERE inserted",
        )
        .bind(digest)
        .bind(bytes.len() as i64)
        .bind(now_ms())
        .bind(bytes)
        .execute(&self.pool)
        .await
        .map_err(io_error)?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores what `reader` yields, one chunk in memory at a time; returns
    /// its reference and whether it was new.
    pub async fn put_reader(&self, reader: &mut dyn io::Read) -> io::Result<(FileRef, bool)> {
        self.put_stream(reader, None).await
    }

    /// Stores what `reader` yields if its digest is `expected`; otherwise
    /// stores nothing and fails with `InvalidData` (a damaged source).
    pub async fn put_expected(
        &self,
        reader: &mut dyn io::Read,
        expected: &str,
    ) -> io::Result<(FileRef, bool)> {
        self.put_stream(reader, Some(expected)).await
    }

    async fn put_stream(
        &self,
        reader: &mut dyn io::Read,
        expected: Option<&str>,
    ) -> io::Result<(FileRef, bool)> {
        let unexpected = |digest: &str| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the bytes hash to {digest}"),
            )
        };
        let mut buf = vec![0u8; CHUNK];
        let first = fill(reader, &mut buf)?;
        if first < CHUNK {
            // The whole file fits one chunk (most files of a mini-program).
            let bytes = &buf[..first];
            let digest = sha256_hex(bytes);
            if expected.is_some_and(|e| e != digest) {
                return Err(unexpected(&digest));
            }
            let new = self.put_small(&digest, bytes).await?;
            let size = first as u64;
            return Ok((
                FileRef {
                    sha256: digest,
                    size,
                },
                new,
            ));
        }
        let pending = pending_key();
        let mut tx = self.pool.begin().await.map_err(io_error)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut seq = 0i32;
        let mut n = first;
        loop {
            hasher.update(&buf[..n]);
            size += n as u64;
            sqlx::query("INSERT INTO blob_chunks (sha256, seq, data) VALUES ($1, $2, $3)")
                .bind(&pending)
                .bind(seq)
                .bind(&buf[..n])
                .execute(&mut *tx)
                .await
                .map_err(io_error)?;
            seq += 1;
            if n < CHUNK {
                break;
            }
            n = fill(reader, &mut buf)?;
            if n == 0 {
                break;
            }
        }
        let digest = hex::encode(hasher.finalize());
        if expected.is_some_and(|e| e != digest) {
            tx.rollback().await.map_err(io_error)?;
            return Err(unexpected(&digest));
        }
        // Waits for a concurrent writer of the same content, if any, and
        // then finds its row: this copy is not needed.
        let inserted = sqlx::query(
            "INSERT INTO blobs (sha256, size, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&digest)
        .bind(size as i64)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(io_error)?
        .rows_affected()
            == 1;
        if inserted {
            sqlx::query("UPDATE blob_chunks SET sha256 = $1 WHERE sha256 = $2")
                .bind(&digest)
                .bind(&pending)
                .execute(&mut *tx)
                .await
                .map_err(io_error)?;
            tx.commit().await.map_err(io_error)?;
        } else {
            // The content is stored (by the other writer): this copy goes
            // with the transaction, whose rollback cannot fail the put.
            // Then the stored blob is marked as stored now, on a connection
            // of its own once this one is back in the pool (holding both
            // would starve the pool under many concurrent writers).
            drop(tx);
            self.touch(&digest).await?;
        }
        Ok((
            FileRef {
                sha256: digest,
                size,
            },
            inserted,
        ))
    }

    /// Marks an existing blob as stored now; false when there is none.
    async fn touch(&self, digest: &str) -> io::Result<bool> {
        Ok(
            sqlx::query("UPDATE blobs SET created_at = $2 WHERE sha256 = $1")
                .bind(digest)
                .bind(now_ms())
                .execute(&self.pool)
                .await
                .map_err(io_error)?
                .rows_affected()
                == 1,
        )
    }

    /// Removes the blobs not in `referenced` last stored before `cutoff`
    /// (Unix ms), a batch per transaction; a blob put again meanwhile
    /// (its `created_at` moved) is left alone.
    pub async fn collect(
        &self,
        referenced: &std::collections::HashSet<String>,
        cutoff: i64,
    ) -> io::Result<crate::blobs::Collected> {
        let candidates: Vec<String> =
            sqlx::query_scalar("SELECT sha256 FROM blobs WHERE created_at < $1")
                .bind(cutoff)
                .fetch_all(&self.pool)
                .await
                .map_err(io_error)?;
        let unused: Vec<String> = candidates
            .into_iter()
            .filter(|d| !referenced.contains(d))
            .collect();
        let mut done = crate::blobs::Collected::default();
        for batch in unused.chunks(500) {
            let mut tx = self.pool.begin().await.map_err(io_error)?;
            let gone: Vec<(String, i64)> = sqlx::query_as(
                "DELETE FROM blobs WHERE sha256 = ANY($1) AND created_at < $2 RETURNING sha256, size",
            )
            .bind(batch)
            .bind(cutoff)
            .fetch_all(&mut *tx)
            .await
            .map_err(io_error)?;
            let digests: Vec<&str> = gone.iter().map(|(d, _)| d.as_str()).collect();
            sqlx::query("DELETE FROM blob_chunks WHERE sha256 = ANY($1)")
                .bind(&digests)
                .execute(&mut *tx)
                .await
                .map_err(io_error)?;
            tx.commit().await.map_err(io_error)?;
            done.blobs += gone.len() as u64;
            done.bytes += gone.iter().map(|(_, s)| *s as u64).sum::<u64>();
        }
        Ok(done)
    }

    /// The bytes of one blob, assembled chunk by chunk.
    pub async fn get(&self, sha256: &str) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let found = self
            .each_chunk(sha256, |chunk| out.extend_from_slice(chunk))
            .await?;
        if !found {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no blob {sha256}"),
            ));
        }
        Ok(out)
    }

    /// Calls `f` with each chunk of a blob in order; false if there is no
    /// such blob (every blob has at least one chunk, an empty one too).
    async fn each_chunk(&self, sha256: &str, mut f: impl FnMut(&[u8])) -> io::Result<bool> {
        check_digest(sha256)?;
        let mut rows = sqlx::query_scalar::<_, Vec<u8>>(
            "SELECT data FROM blob_chunks WHERE sha256 = $1 ORDER BY seq",
        )
        .bind(sha256)
        .fetch(&self.pool);
        let mut found = false;
        while let Some(chunk) = rows.try_next().await.map_err(io_error)? {
            found = true;
            f(&chunk);
        }
        Ok(found)
    }

    /// The SHA-256 and size of what is stored under `sha256`, computed from
    /// the stored bytes (`db copy` proves its blobs with it); `None` if
    /// there is no such blob.
    pub async fn rehash(&self, sha256: &str) -> io::Result<Option<FileRef>> {
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let found = self
            .each_chunk(sha256, |chunk| {
                hasher.update(chunk);
                size += chunk.len() as u64;
            })
            .await?;
        Ok(found.then(|| FileRef {
            sha256: hex::encode(hasher.finalize()),
            size,
        }))
    }

    /// Which of `digests` are stored.
    pub async fn present(&self, digests: &[String]) -> io::Result<Vec<String>> {
        sqlx::query_scalar("SELECT sha256 FROM blobs WHERE sha256 = ANY($1)")
            .bind(digests)
            .fetch_all(&self.pool)
            .await
            .map_err(io_error)
    }

    /// Number of blobs and their total size.
    pub async fn usage(&self) -> io::Result<(u64, u64)> {
        let (count, bytes): (i64, i64) =
            sqlx::query_as("SELECT COUNT(*), COALESCE(SUM(size), 0)::BIGINT FROM blobs")
                .fetch_one(&self.pool)
                .await
                .map_err(io_error)?;
        Ok((count as u64, bytes as u64))
    }
}
