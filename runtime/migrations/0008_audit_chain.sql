-- The audit hash chain: each row names its writer's stream, its number in it
-- and its hash (over the previous row's hash and its own fields). Rows written
-- before this migration have none and are counted apart by verification.
ALTER TABLE audit_log ADD COLUMN stream TEXT;
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
ALTER TABLE audit_attempt ADD COLUMN stream TEXT;
ALTER TABLE audit_attempt ADD COLUMN seq BIGINT;
ALTER TABLE audit_attempt ADD COLUMN hash TEXT;
