-- The lowest base-library version the app supports (`app/setsupportversion`);
-- NULL: none asked for.
ALTER TABLE apps ADD COLUMN min_base_version TEXT;
