-- Audit entries written in the transaction of the change they record, and
-- moved into audit_log (with its indexes) a batch at a time off the hot
-- path (Store::move_staged_audit). Appending here touches one page per
-- commit where audit_log's three indexes would touch four.
CREATE TABLE audit_staging (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    address TEXT,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL
);
