-- smartship schema, SQLite flavour. Times are Unix milliseconds (INTEGER),
-- booleans 0/1, JSON documents TEXT: the same columns map 1:1 to the
-- PostgreSQL schema (BIGINT, BOOLEAN, TEXT/JSONB).

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE tps (
    id               INTEGER PRIMARY KEY,
    client_id        TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    message_url      TEXT,
    auth_event_url   TEXT,
    msg_token        TEXT NOT NULL,
    encoding_aes_key TEXT NOT NULL,
    ip_allowlist     TEXT,
    created_at       INTEGER NOT NULL
);

CREATE TABLE apps (
    id                    INTEGER PRIMARY KEY,
    app_key               TEXT NOT NULL UNIQUE,
    name                  TEXT NOT NULL,
    description           TEXT NOT NULL DEFAULT '',
    basic_info_approved   BOOLEAN NOT NULL DEFAULT 0,
    authenticity_verified BOOLEAN NOT NULL DEFAULT 0,
    created_at            INTEGER NOT NULL
);

CREATE TABLE authorizations (
    id         INTEGER PRIMARY KEY,
    app_id     INTEGER NOT NULL REFERENCES apps(id),
    tp_id      INTEGER NOT NULL REFERENCES tps(id),
    scopes     TEXT NOT NULL,
    active     BOOLEAN NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (app_id, tp_id)
);

-- Tokens are stored as SHA-256 of the opaque token string, never in clear.
CREATE TABLE tokens (
    hash       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,            -- tp_access | app_access | app_refresh
    tp_id      INTEGER NOT NULL REFERENCES tps(id),
    app_id     INTEGER REFERENCES apps(id),
    expires_at INTEGER NOT NULL,
    revoked    BOOLEAN NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE drafts (
    id           INTEGER PRIMARY KEY,
    tp_id        INTEGER NOT NULL REFERENCES tps(id),
    user_version TEXT NOT NULL,
    user_desc    TEXT NOT NULL,
    manifest     TEXT NOT NULL,
    size         INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX drafts_tp ON drafts (tp_id, id);

CREATE TABLE templates (
    id           INTEGER PRIMARY KEY,
    tp_id        INTEGER NOT NULL REFERENCES tps(id),
    draft_id     INTEGER NOT NULL REFERENCES drafts(id),
    user_version TEXT NOT NULL,
    user_desc    TEXT NOT NULL,
    manifest     TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    deleted_at   INTEGER
);
CREATE INDEX templates_tp ON templates (tp_id, deleted_at, id);

CREATE TABLE packages (
    id               INTEGER PRIMARY KEY,
    app_id           INTEGER NOT NULL REFERENCES apps(id),
    tp_id            INTEGER NOT NULL REFERENCES tps(id),
    template_id      INTEGER NOT NULL,
    version          TEXT NOT NULL,
    version_desc     TEXT NOT NULL,
    state            TEXT NOT NULL,
    build            TEXT NOT NULL,
    build_error_code INTEGER,
    build_error      TEXT,
    build_lease_until INTEGER,
    ext_json         TEXT NOT NULL,
    direct_commit    BOOLEAN NOT NULL,
    test_account     TEXT,
    test_password    TEXT,
    audit_content    TEXT NOT NULL DEFAULT '',
    remark           TEXT NOT NULL DEFAULT '',
    msg              TEXT NOT NULL DEFAULT '',
    committer        TEXT NOT NULL,
    commit_time      INTEGER NOT NULL,
    rollback_version TEXT,
    rollback_due_at  INTEGER,
    released_at      INTEGER,
    manifest         TEXT,
    size             INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
-- package/get and every transition read an app's slotted packages by state.
CREATE INDEX packages_app_state ON packages (app_id, state, released_at);
CREATE INDEX packages_building ON packages (build, build_lease_until) WHERE build = 'building';
CREATE INDEX packages_rolling_back ON packages (rollback_due_at) WHERE state = 'rolling_back';

-- Audit trail: one row per package state change (who, when, from, to).
CREATE TABLE package_transitions (
    id         INTEGER PRIMARY KEY,
    package_id INTEGER NOT NULL REFERENCES packages(id),
    app_id     INTEGER NOT NULL,
    action     TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    actor      TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '',
    at         INTEGER NOT NULL
);
CREATE INDEX package_transitions_package ON package_transitions (package_id, id);

-- One row per audit submission, counted against the period's quota.
CREATE TABLE quota_uses (
    id         INTEGER PRIMARY KEY,
    app_id     INTEGER NOT NULL,
    package_id INTEGER NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX quota_uses_app ON quota_uses (app_id, at);

-- Transactional outbox: written in the same transaction as the state change
-- it reports; delivery workers render and send it.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    tp_id        INTEGER NOT NULL,
    app_id       INTEGER,
    kind         TEXT NOT NULL,
    package_id   INTEGER,
    version      TEXT,
    reason       TEXT,
    occurred_at  INTEGER NOT NULL,
    status       TEXT NOT NULL,          -- pending | delivered | failed
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL
);
CREATE INDEX events_due ON events (status, next_attempt_at);
