-- Consent states already used: a sealed state approves one call, once, on
-- whichever replica the retry reaches. Rows past their expiry are deleted
-- (the seal no longer opens by then).
CREATE TABLE IF NOT EXISTS consent_spent (
    id TEXT PRIMARY KEY,
    expires_ms BIGINT NOT NULL
);

CREATE INDEX IF NOT EXISTS consent_spent_expires ON consent_spent (expires_ms);

-- Approvals asked of a person outside the MCP client (`confirm = "human"`):
-- decided once, by the subject that made the call, on the approval page;
-- spent once, by the call's retry. Rows past their expiry are deleted.
CREATE TABLE IF NOT EXISTS consent_approval (
    id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    tool TEXT NOT NULL,
    action TEXT NOT NULL,
    expires_ms BIGINT NOT NULL,
    status TEXT NOT NULL,
    decided_ms BIGINT
);

CREATE INDEX IF NOT EXISTS consent_approval_expires ON consent_approval (expires_ms);
CREATE INDEX IF NOT EXISTS consent_approval_waiting ON consent_approval (subject, status);
