-- The hot and worker paths that had no index: tokens by app and platform
-- (unauthorize and refresh rotation revoke them), and what the retention
-- worker deletes by age.
CREATE INDEX tokens_app_tp ON tokens (app_id, tp_id);
CREATE INDEX tokens_expires ON tokens (expires_at);
CREATE INDEX codes_expires ON codes (expires_at);
CREATE INDEX tp_tickets_created ON tp_tickets (created_at);
CREATE INDEX event_attempts_started ON event_attempts (started_at);
