-- The automated pre-review checks of each built package: what they found
-- (a JSON array of {check, blocking, file, line, message}), written by the
-- build before the build's result, read by submitaudit and the reviewers.
CREATE TABLE package_checks (
    package_id BIGINT PRIMARY KEY REFERENCES packages(id),
    findings   TEXT NOT NULL,
    blocking   BIGINT NOT NULL,   -- how many findings block a submission
    checked_at BIGINT NOT NULL
);
