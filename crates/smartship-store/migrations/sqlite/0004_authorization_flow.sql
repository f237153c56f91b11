-- Single-use codes of the authorization flow, stored hashed like tokens:
-- pre-auth codes (a TP starts a consent) and authorization codes (exchanged
-- for an app's tokens).
CREATE TABLE codes (
    hash       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,            -- pre_auth | authorization
    tp_id      INTEGER NOT NULL REFERENCES tps(id),
    app_id     INTEGER REFERENCES apps(id),
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    created_at INTEGER NOT NULL
);

-- Domain that consent redirects of the TP must point to.
ALTER TABLE tps ADD COLUMN redirect_domain TEXT;
