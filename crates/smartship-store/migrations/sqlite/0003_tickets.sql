-- The ticket pushed to each third-party platform on a schedule; the TP
-- exchanges the current (or a recent) one for its access token.
CREATE TABLE tp_tickets (
    id         INTEGER PRIMARY KEY,
    tp_id      INTEGER NOT NULL REFERENCES tps(id),
    ticket     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX tp_tickets_tp ON tp_tickets (tp_id, id);
