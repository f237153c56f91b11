-- Names compared in one folded form (smartship_core::profile::name_key:
-- NFKC, case folded, letters and digits only, confusables as their
-- prototype), so that a look-alike of a name is the same name. The store
-- writes it beside every name; rows from before are filled in when the
-- store opens (name_key NULL). Pending examinations' name_claim holds the
-- same form from now on.
ALTER TABLE apps ADD COLUMN name_key TEXT;
CREATE INDEX apps_by_name_key ON apps (name_key);
