-- The console's operator accounts and their sign-in sessions.
--
-- A password is kept as its PBKDF2 hash; a session as the SHA-256 of the
-- cookie's value (like tokens), with the CSRF token its forms must carry.
-- Sessions live in the database so that every node knows them.
CREATE TABLE operators (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    username            TEXT NOT NULL UNIQUE,
    role                TEXT NOT NULL,      -- admin | reviewer | viewer
    password_hash       TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    password_changed_at INTEGER NOT NULL
);

CREATE TABLE operator_sessions (
    token_hash  TEXT PRIMARY KEY,
    operator_id INTEGER NOT NULL REFERENCES operators(id),
    csrf        TEXT NOT NULL,
    address     TEXT,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id);
CREATE INDEX operator_sessions_expiry ON operator_sessions (expires_at);
