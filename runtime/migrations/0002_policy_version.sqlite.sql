-- A counter every change to casbin_rule advances, so replicas sharing the
-- database can tell, with one cheap query, that their policies are stale.
CREATE TABLE IF NOT EXISTS policy_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT OR IGNORE INTO policy_version (id, version) VALUES (1, 0);

CREATE TRIGGER IF NOT EXISTS casbin_rule_insert_version AFTER INSERT ON casbin_rule
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS casbin_rule_update_version AFTER UPDATE ON casbin_rule
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS casbin_rule_delete_version AFTER DELETE ON casbin_rule
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;
