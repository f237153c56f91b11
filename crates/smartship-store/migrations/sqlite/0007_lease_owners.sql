-- Who holds a lease: `host/pid/nonce` of the process (see lease_owner.rs),
-- so that a process restarting after a crash can take back the leases of
-- its dead predecessor at once instead of waiting for them to expire.
ALTER TABLE packages ADD COLUMN build_lease_owner TEXT;
ALTER TABLE events ADD COLUMN lease_owner TEXT;
