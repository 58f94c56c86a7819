-- Object-level rules: a grant reaches `any` object of its resource, or only
-- the objects the caller `own`s. Every grant made before reached any object.
UPDATE casbin_rule SET v3 = 'any' WHERE ptype = 'p' AND v3 = '';
