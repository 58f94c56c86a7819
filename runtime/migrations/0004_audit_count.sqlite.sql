-- How many requests a record stands for: 1, or the failed authentications of
-- one client address in one window, recorded together.
ALTER TABLE audit_log ADD COLUMN count BIGINT NOT NULL DEFAULT 1;
