-- casbin policies, in the casbin_rule layout the casbin adapters share.
CREATE TABLE IF NOT EXISTS casbin_rule (
    id SERIAL PRIMARY KEY,
    ptype VARCHAR NOT NULL,
    v0 VARCHAR NOT NULL DEFAULT '',
    v1 VARCHAR NOT NULL DEFAULT '',
    v2 VARCHAR NOT NULL DEFAULT '',
    v3 VARCHAR NOT NULL DEFAULT '',
    v4 VARCHAR NOT NULL DEFAULT '',
    v5 VARCHAR NOT NULL DEFAULT '',
    CONSTRAINT unique_key_casbin_rule UNIQUE (ptype, v0, v1, v2, v3, v4, v5)
);

-- One row per request. Rows are only ever inserted.
CREATE TABLE IF NOT EXISTS audit_log (
    id BIGSERIAL PRIMARY KEY,
    time_ms BIGINT NOT NULL,
    server TEXT NOT NULL,
    tool TEXT NOT NULL,
    subject TEXT NOT NULL,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    gate TEXT,
    field TEXT,
    reason TEXT,
    findings TEXT NOT NULL,
    duration_us BIGINT NOT NULL
);

CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
