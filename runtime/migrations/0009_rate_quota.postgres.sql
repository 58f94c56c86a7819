-- Rate-limit buckets replicas share (GCRA): one row per server, subject and
-- tool ('' for the subject's own limit). `full_us` is when the bucket is full
-- again, in microseconds of the database's clock; `at_us` and `granted` are
-- the time and the tokens of the last lease. A row whose bucket is full again
-- is the same as no row, and is deleted.
--
-- On PostgreSQL the table is UNLOGGED: a lease writes no WAL and waits for no
-- flush. A crash of the database empties it, which gives each subject one
-- fresh burst; a standby does not have it, and a promoted one starts empty.
CREATE UNLOGGED TABLE IF NOT EXISTS rate_quota (
    server TEXT NOT NULL,
    subject TEXT NOT NULL,
    tool TEXT NOT NULL,
    full_us BIGINT NOT NULL,
    at_us BIGINT NOT NULL,
    granted BIGINT NOT NULL,
    PRIMARY KEY (server, subject, tool)
);

CREATE INDEX IF NOT EXISTS rate_quota_full ON rate_quota (server, full_us);
