-- Write-ahead audit: a row here before a tool body runs, so a side effect
-- never lacks a durable trace; the outcome row in audit_log names the same
-- call_id once the call completes. An attempt without an outcome is a call
-- that ran but whose completion could not be recorded.
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS call_id TEXT;

CREATE TABLE IF NOT EXISTS audit_attempt (
    id BIGSERIAL PRIMARY KEY,
    call_id TEXT NOT NULL UNIQUE,
    time_ms BIGINT NOT NULL,
    server TEXT NOT NULL,
    tool TEXT NOT NULL,
    subject TEXT NOT NULL,
    action TEXT NOT NULL
);

DROP TRIGGER IF EXISTS audit_attempt_append_only ON audit_attempt;
CREATE TRIGGER audit_attempt_append_only BEFORE UPDATE OR DELETE ON audit_attempt
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
