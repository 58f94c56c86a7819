-- Subjects and roles in separate namespaces: a policy names a role
-- (`role:NAME`), an assignment a subject and a role (`user:NAME`, `role:NAME`),
-- so a subject named like a role holds none of its grants.
UPDATE casbin_rule SET v0 = 'role:' || v0 WHERE ptype = 'p';
UPDATE casbin_rule SET v0 = 'user:' || v0, v1 = 'role:' || v1 WHERE ptype = 'g';
