-- Consent states already used: a sealed state approves one call, once, on
-- whichever replica the retry reaches. Rows past their expiry are deleted
-- (the seal no longer opens by then).
CREATE TABLE IF NOT EXISTS consent_spent (
    id TEXT PRIMARY KEY,
    expires_ms BIGINT NOT NULL
);

CREATE INDEX IF NOT EXISTS consent_spent_expires ON consent_spent (expires_ms);
