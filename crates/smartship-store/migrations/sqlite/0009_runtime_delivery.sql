-- Delivery to host runtimes (SPEC §7): host-app keys, the package signing
-- keys, each released package's downloadable artifact, the incremental
-- packages between two versions, and phased (gray) release plans.

-- What a host runtime presents to /runtime/v1, stored as the SHA-256 of
-- the key (never in clear), like tokens.
CREATE TABLE host_keys (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

-- Ed25519 keys that sign the update answers. The newest key that is not
-- retired signs; a retired key stays published until `retired_at` passes,
-- so that answers it signed still verify (rotation with overlap).
CREATE TABLE signing_keys (
    key_id     TEXT PRIMARY KEY,
    secret     TEXT NOT NULL,            -- base64 of the 32-byte seed
    public_key TEXT NOT NULL,            -- base64 of the 32-byte public key
    created_at INTEGER NOT NULL,
    retired_at INTEGER
);

-- The zip a host downloads, made once from the package's files and kept
-- as a blob: its digest is its download address.
ALTER TABLE packages ADD COLUMN artifact_sha256 TEXT;
ALTER TABLE packages ADD COLUMN artifact_size INTEGER;

-- A download names an artifact by its digest: only recorded artifacts
-- are served, never any other blob (sources of drafts and templates).
CREATE INDEX packages_artifact ON packages (artifact_sha256) WHERE artifact_sha256 IS NOT NULL;

-- An incremental package from one version to another, made on first ask.
CREATE TABLE package_deltas (
    delta_key    TEXT PRIMARY KEY,           -- '{from_package}>{to_package}'
    from_package INTEGER NOT NULL,
    to_package   INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    size         INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX package_deltas_sha256 ON package_deltas (sha256);

-- Phased releases. At most one plan per app is live (running or paused).
CREATE TABLE gray_plans (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id       INTEGER NOT NULL REFERENCES apps(id),
    package_id   INTEGER NOT NULL REFERENCES packages(id),
    percentage   INTEGER NOT NULL,
    user_list    TEXT NOT NULL DEFAULT '',
    ramp         TEXT NOT NULL DEFAULT '[]', -- JSON steps not yet taken
    status       TEXT NOT NULL,              -- running | paused | finished | reverted
    next_step_at INTEGER,
    paused_at    INTEGER,
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    ended_at     INTEGER
);
CREATE UNIQUE INDEX gray_plans_live ON gray_plans (app_id) WHERE status IN ('running', 'paused');
CREATE INDEX gray_plans_due ON gray_plans (next_step_at) WHERE status = 'running';

-- Whether the app is served at all: normal | paused | banned | forced_offline.
-- Host runtimes get no package of an app that is not normal.
ALTER TABLE apps ADD COLUMN service_status TEXT NOT NULL DEFAULT 'normal';

-- The earlier version a rollback returns to, recorded on the package
-- rolling back (NULL: the newest earlier version, as before targets).
ALTER TABLE packages ADD COLUMN rollback_target INTEGER;

-- A release held until this time (Unix ms) by `release` with `release_at`;
-- the schedule worker releases it then.
ALTER TABLE packages ADD COLUMN release_at INTEGER;
CREATE INDEX packages_scheduled ON packages (release_at) WHERE release_at IS NOT NULL;

-- The release events a platform subscribes to (comma-separated wire
-- names, e.g. PACKAGE_RELEASE,PACKAGE_ROLLBACK); none by default, so a
-- receiver sees nothing new unless its platform opts in.
ALTER TABLE tps ADD COLUMN release_events TEXT NOT NULL DEFAULT '';
