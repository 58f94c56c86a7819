-- A counter every change to casbin_rule advances, so replicas sharing the
-- database can tell, with one cheap query, that their policies are stale.
CREATE TABLE IF NOT EXISTS policy_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO policy_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;

CREATE OR REPLACE FUNCTION casbin_rule_advance_version() RETURNS trigger AS $$
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS casbin_rule_version ON casbin_rule;
CREATE TRIGGER casbin_rule_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON casbin_rule
    FOR EACH STATEMENT EXECUTE FUNCTION casbin_rule_advance_version();
