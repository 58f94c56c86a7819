-- Write-ahead audit: a row here before a tool body runs, so a side effect
-- never lacks a durable trace; the outcome row in audit_log names the same
-- call_id once the call completes. An attempt without an outcome is a call
-- that ran but whose completion could not be recorded.
ALTER TABLE audit_log ADD COLUMN call_id TEXT;

CREATE TABLE IF NOT EXISTS audit_attempt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id TEXT NOT NULL UNIQUE,
    time_ms BIGINT NOT NULL,
    server TEXT NOT NULL,
    tool TEXT NOT NULL,
    subject TEXT NOT NULL,
    action TEXT NOT NULL
);

CREATE TRIGGER IF NOT EXISTS audit_attempt_no_update BEFORE UPDATE ON audit_attempt
BEGIN
    SELECT RAISE(ABORT, 'audit_attempt is append-only');
END;

CREATE TRIGGER IF NOT EXISTS audit_attempt_no_delete BEFORE DELETE ON audit_attempt
BEGIN
    SELECT RAISE(ABORT, 'audit_attempt is append-only');
END;
