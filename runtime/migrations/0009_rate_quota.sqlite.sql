-- Rate-limit buckets replicas share (GCRA): one row per server, subject and
-- tool ('' for the subject's own limit). `full_us` is when the bucket is full
-- again, in microseconds of the database's clock; `at_us` and `granted` are
-- the time and the tokens of the last lease. A row whose bucket is full again
-- is the same as no row, and is deleted.
CREATE TABLE IF NOT EXISTS rate_quota (
    server TEXT NOT NULL,
    subject TEXT NOT NULL,
    tool TEXT NOT NULL,
    full_us BIGINT NOT NULL,
    at_us BIGINT NOT NULL,
    granted BIGINT NOT NULL,
    PRIMARY KEY (server, subject, tool)
);

CREATE INDEX IF NOT EXISTS rate_quota_full ON rate_quota (server, full_us);
