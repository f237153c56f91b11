-- The app's basic information and settings (SPEC §2): each change of the
-- name, icon, description or categories is an examination an operator
-- passes or fails; uploaded images; server and web-view domains; the
-- reasons of bans and forced offline.

-- The approved values. `name` and `description` were already there;
-- `basic_info_approved` is from now on a projection of the examinations
-- (recomputed in the transaction that decides one), never set directly.
ALTER TABLE apps ADD COLUMN photo_addr TEXT NOT NULL DEFAULT '';
-- JSON array of {"category_id", "category_quali"}.
ALTER TABLE apps ADD COLUMN categories TEXT NOT NULL DEFAULT '[]';
-- JSON object {kind: [domain, ...]} (request, upload, download, socket, web_view).
ALTER TABLE apps ADD COLUMN domains TEXT NOT NULL DEFAULT '{}';
ALTER TABLE tps ADD COLUMN domains TEXT NOT NULL DEFAULT '{}';
-- The content of the platform's domain-ownership check file, made on first download.
ALTER TABLE tps ADD COLUMN domain_check TEXT;

CREATE TABLE examinations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id       INTEGER NOT NULL REFERENCES apps(id),
    field        TEXT NOT NULL,          -- name, photo, signature, category, restore, basic_info
    value        TEXT NOT NULL,          -- the value asked for (JSON for category and restore)
    material     TEXT NOT NULL DEFAULT '', -- qualification image URLs, comma-separated
    status       TEXT NOT NULL,          -- pending, passed, failed
    reason       TEXT NOT NULL DEFAULT '',
    submitted_by TEXT NOT NULL,
    submitted_at INTEGER NOT NULL,
    -- The name the change asks for (a name change, or a restoration that
    -- corrects the name): what uniqueness among apps is checked on.
    name_claim   TEXT,
    reviewed_by  TEXT,
    reviewed_at  INTEGER
);
CREATE INDEX examinations_by_app ON examinations (app_id, field, id);
CREATE INDEX examinations_by_status ON examinations (status, id);
-- At most one change of a field under review per app, and one app asking
-- for a name at a time: the rows themselves refuse a second one, whatever
-- interleaving two nodes' transactions take.
CREATE UNIQUE INDEX examinations_one_pending ON examinations (app_id, field) WHERE status = 'pending';
CREATE UNIQUE INDEX examinations_pending_name ON examinations (name_claim) WHERE status = 'pending' AND name_claim IS NOT NULL;

-- Images uploaded through /file/2.0/smartapp/upload/image; the bytes are a
-- blob under the same digest. A platform may use the images it uploaded
-- (one row per platform and digest).
CREATE TABLE images (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256       TEXT NOT NULL,
    tp_id        INTEGER NOT NULL,
    kind         INTEGER NOT NULL,       -- 1 icon, 2 category qualification, 3 name material
    content_type TEXT NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    size         INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (tp_id, sha256)
);
CREATE INDEX images_by_sha256 ON images (sha256);

-- Bans and forced offline, with the operator's reason; resolved when the
-- service is restored.
CREATE TABLE violations (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id         INTEGER NOT NULL REFERENCES apps(id),
    status         TEXT NOT NULL,        -- banned, forced_offline
    reason         TEXT NOT NULL,
    illegal_fields TEXT NOT NULL DEFAULT '', -- appName,photoAddr,appDesc
    created_by     TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    resolved_at    INTEGER
);
CREATE INDEX violations_by_app ON violations (app_id, id);

-- Apps approved before examinations existed keep their approval: it is
-- recorded as the operator's shortcut, from which it is now derived.
INSERT INTO examinations (app_id, field, value, material, status, reason, submitted_by,
                          submitted_at, reviewed_by, reviewed_at)
SELECT id, 'basic_info', '', '', 'passed', '', 'migration', CAST(strftime('%s', 'now') AS INTEGER) * 1000, 'migration', CAST(strftime('%s', 'now') AS INTEGER) * 1000
FROM apps WHERE basic_info_approved;
