-- Accounts of mini-program administrators, who sign in on the consent page
-- to authorize a third-party platform. Passwords are stored as salted
-- PBKDF2-HMAC-SHA256 hashes.
CREATE TABLE app_admins (
    username      TEXT PRIMARY KEY,
    app_id        INTEGER NOT NULL REFERENCES apps(id),
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
