-- The app's release sequence: raised in the transaction of every change of
-- what its users are served (a release, a rollback, a phased release
-- started, changed or ended). Signed into update answers, so that a host
-- refuses an answer older than one it already ran (a replay).
ALTER TABLE apps ADD COLUMN release_seq BIGINT NOT NULL DEFAULT 0;
