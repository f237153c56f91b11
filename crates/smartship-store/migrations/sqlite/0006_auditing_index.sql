-- The automatic reviewer reads packages under audit in submission order.
CREATE INDEX packages_auditing ON packages (updated_at, id) WHERE state = 'auditing';
