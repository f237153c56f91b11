-- Blobs of a PostgreSQL installation (src/postgres/blobs.rs): the files
-- of drafts, templates and built packages, addressed by the SHA-256 of
-- their bytes, in chunks so that no statement carries a whole package.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Every blob has at least one chunk (an empty file: one empty chunk).
-- While a stream is written its chunks are under a pending key, renamed
-- to the digest in the transaction that inserts the blob row.
CREATE TABLE blob_chunks (
    sha256 TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (sha256, seq)
);
