-- The operator console: its operators and their sign-in sessions, the audit
-- log of every state-changing action, and indexes for its figures.
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

-- Every state-changing action, whoever made it: the open API's callers
-- (app:<id>, tp:<id>), the operator API (admin), console operators
-- (console:<username>) and the workers (worker:<name>). Written after the
-- action, a batch at a time.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    address TEXT,
    action  TEXT NOT NULL,              -- the route or the worker's step
    target  TEXT NOT NULL DEFAULT '',   -- what it acted on: package:12, app:3, event:9
    detail  TEXT NOT NULL DEFAULT '',   -- its parameters (secrets left out) or what changed
    outcome TEXT NOT NULL               -- ok, or what refused it (errno 47003, HTTP 409)
);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_target ON audit_log (target, id);

-- The console's figures: delivery lag over the last hour, reviews and
-- releases per day, an app's timeline.
CREATE INDEX events_delivered ON events (delivered_at) WHERE delivered_at IS NOT NULL;
CREATE INDEX package_transitions_at ON package_transitions (at);
CREATE INDEX package_transitions_app ON package_transitions (app_id, at);
