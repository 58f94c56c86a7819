-- casbin policies, in the casbin_rule layout the casbin adapters share.
CREATE TABLE IF NOT EXISTS casbin_rule (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ptype TEXT NOT NULL,
    v0 TEXT NOT NULL DEFAULT '',
    v1 TEXT NOT NULL DEFAULT '',
    v2 TEXT NOT NULL DEFAULT '',
    v3 TEXT NOT NULL DEFAULT '',
    v4 TEXT NOT NULL DEFAULT '',
    v5 TEXT NOT NULL DEFAULT '',
    CONSTRAINT unique_key_casbin_rule UNIQUE (ptype, v0, v1, v2, v3, v4, v5)
);

-- One row per request. Rows are only ever inserted.
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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

CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
