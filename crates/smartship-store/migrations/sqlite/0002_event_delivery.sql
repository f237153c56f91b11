-- Event delivery: leases so that a crashed worker's events are retried and
-- no two workers send the same attempt; one row per delivery attempt.

ALTER TABLE events ADD COLUMN lease_until INTEGER;
ALTER TABLE events ADD COLUMN last_error TEXT;
ALTER TABLE events ADD COLUMN delivered_at INTEGER;
-- Where the event goes: 'message' (message_url) or 'auth' (auth_event_url).
ALTER TABLE events ADD COLUMN target TEXT NOT NULL DEFAULT 'message';
-- Events that are not audit results carry their payload fields here (JSON).
ALTER TABLE events ADD COLUMN payload TEXT;

-- Optional Standard Webhooks signing secret (whsec_...).
ALTER TABLE tps ADD COLUMN webhook_secret TEXT;

CREATE TABLE event_attempts (
    id            INTEGER PRIMARY KEY,
    event_id      INTEGER NOT NULL REFERENCES events(id),
    attempt       INTEGER NOT NULL,
    url           TEXT NOT NULL,
    started_at    INTEGER NOT NULL,
    duration_ms   INTEGER NOT NULL,
    status_code   INTEGER,
    response_body TEXT,
    error         TEXT,
    outcome       TEXT NOT NULL          -- delivered | retry | failed
);
CREATE INDEX event_attempts_event ON event_attempts (event_id, id);
