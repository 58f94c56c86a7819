//! The seed's RBAC matrix, against every policy store: casbin's in-memory
//! adapter, SQLite through sqlx (also after reopening the database), and
//! PostgreSQL when `DATABASE_URL` points at one.

use secure_tool::{
    Authorizer, Gate, Grant, Principal, Reach, Reject, Server, StaticToken, StaticTokens, Store,
    secure_tool, server,
};
use secure_tool_test_support::{fresh_postgres, temp_sqlite_url};

const ACTIONS: [&str; 4] = ["create", "read", "update", "delete"];

/// (subject, role, allowed actions); dave has no role.
const MATRIX: [(&str, Option<&str>, [bool; 4]); 4] = [
    ("alice", Some("admin"), [true, true, true, true]),
    ("bob", Some("editor"), [false, true, true, false]),
    ("carol", Some("viewer"), [false, true, false, false]),
    ("dave", None, [false, false, false, false]),
];

async fn seed(authz: &Authorizer) {
    for (role, actions) in [
        ("admin", &ACTIONS[..]),
        ("editor", &["read", "update"][..]),
        ("viewer", &["read"][..]),
    ] {
        for action in actions {
            authz.grant(role, "documents", action).await.unwrap();
        }
    }
    for (subject, role, _) in MATRIX {
        if let Some(role) = role {
            authz.assign(subject, role).await.unwrap();
        }
    }
}

/// Every subject, with a token carrying every documents scope, against every action.
async fn assert_matrix(authz: &Authorizer) {
    for (subject, _, allowed) in MATRIX {
        let principal = Principal::new(subject, ACTIONS.map(|a| format!("documents:{a}")));
        for (action, expected) in ACTIONS.iter().zip(allowed) {
            let decision = authz
                .authorize(&principal, &format!("documents:{action}"))
                .await;
            match (decision, expected) {
                (Ok(Reach::Any), true) => {}
                (Err(reject), false) => assert_eq!(reject.gate(), Gate::Role, "{subject} {action}"),
                (decision, _) => {
                    panic!("{subject} {action}: expected {expected}, got {decision:?}")
                }
            }
        }
    }
}

#[tokio::test]
async fn matrix_in_memory() {
    let authz = Authorizer::in_memory().await;
    seed(&authz).await;
    assert_matrix(&authz).await;
}

async fn matrix_persists(url: &str) {
    {
        let store = Store::connect(url).await.unwrap();
        store.migrate(&[]).await.unwrap();
        let authz = Authorizer::persistent(&store).await.unwrap();
        seed(&authz).await;
        assert_matrix(&authz).await;
        store.pool().close().await;
    }
    // A new process would do exactly this: reopen, load, decide.
    let store = Store::connect(url).await.unwrap();
    store.migrate(&[]).await.unwrap();
    let authz = Authorizer::persistent(&store).await.unwrap();
    assert_matrix(&authz).await;
    // Revocation persists too.
    authz.revoke("editor", "documents", "update").await.unwrap();
    let reopened = Authorizer::persistent(&store).await.unwrap();
    let bob = Principal::new("bob", ["documents:update"]);
    assert_eq!(
        reopened
            .authorize(&bob, "documents:update")
            .await
            .unwrap_err()
            .gate(),
        Gate::Role
    );
}

#[tokio::test]
async fn matrix_on_sqlite_survives_reopening() {
    matrix_persists(&temp_sqlite_url("rbac")).await;
}

#[tokio::test]
async fn matrix_on_postgres_survives_reopening() {
    let Some(url) = fresh_postgres("rbac").await else {
        eprintln!("DATABASE_URL is not PostgreSQL: skipped");
        return;
    };
    matrix_persists(&url).await;
}

#[tokio::test]
async fn scope_and_role_are_both_required() {
    let authz = Authorizer::in_memory().await;
    seed(&authz).await;
    // alice's role allows update, but this token was down-scoped to read.
    let read_only = Principal::new("alice", ["documents:read"]);
    let refused = authz
        .authorize(&read_only, "documents:update")
        .await
        .unwrap_err();
    assert_eq!(refused.gate(), Gate::Scope);
    assert_eq!(
        refused.reason(),
        "token scope is missing \"documents:update\""
    );
    // dave's token carries the scope, but no role permits him.
    let dave = Principal::new("dave", ["documents:*"]);
    assert_eq!(
        authz
            .authorize(&dave, "documents:read")
            .await
            .unwrap_err()
            .gate(),
        Gate::Role
    );
    // The wildcard covers every action of its resource for a permitted role.
    let alice = Principal::new("alice", ["documents:*"]);
    assert!(authz.authorize(&alice, "documents:delete").await.is_ok());
}

#[tokio::test]
async fn a_subject_named_like_a_role_holds_none_of_its_grants() {
    let authz = Authorizer::in_memory().await;
    seed(&authz).await;
    // A token whose subject is a role's name, with every scope: no grant.
    for name in ["admin", "editor", "viewer", "role:admin", "user:alice"] {
        let impostor = Principal::new(name, ["documents:*"]);
        let refused = authz.authorize(&impostor, "documents:read").await;
        assert_eq!(refused.unwrap_err().gate(), Gate::Role, "{name}");
    }
    // Assigned the role, a subject called admin has it like anyone else.
    authz.assign("admin", "viewer").await.unwrap();
    let admin = Principal::new("admin", ["documents:*"]);
    assert!(authz.authorize(&admin, "documents:read").await.is_ok());
    assert!(authz.authorize(&admin, "documents:delete").await.is_err());
}

#[tokio::test]
async fn roles_a_token_claims_reach_what_those_roles_reach_and_no_further() {
    let authz = Authorizer::in_memory().await;
    seed(&authz).await;
    authz
        .grant_on("author", "documents", "update", Reach::Own)
        .await
        .unwrap();
    let with =
        |roles: &[&str]| Principal::new("erin", ["documents:*"]).with_roles(roles.iter().copied());
    // erin is assigned nothing here: the identity provider says what she is.
    assert_eq!(
        authz
            .authorize(&with(&[]), "documents:read")
            .await
            .unwrap_err()
            .gate(),
        Gate::Role
    );
    let viewer = with(&["viewer"]);
    assert_eq!(
        authz.authorize(&viewer, "documents:read").await.unwrap(),
        Reach::Any
    );
    assert_eq!(
        authz
            .authorize(&viewer, "documents:delete")
            .await
            .unwrap_err()
            .gate(),
        Gate::Role
    );
    // Several roles: the one that reaches furthest.
    let both = with(&["author", "admin"]);
    assert_eq!(
        authz.authorize(&both, "documents:update").await.unwrap(),
        Reach::Any
    );
    assert_eq!(
        authz
            .authorize(&with(&["author"]), "documents:update")
            .await
            .unwrap(),
        Reach::Own
    );
    // A role nobody granted anything, or a claimed name spelled as a user, is nothing.
    for name in ["root", "user:alice", "role:admin"] {
        let refused = authz.authorize(&with(&[name]), "documents:read").await;
        assert_eq!(refused.unwrap_err().gate(), Gate::Role, "{name}");
    }
    // The scope gate still comes first.
    let narrow = Principal::new("erin", ["documents:read"]).with_roles(["admin"]);
    assert_eq!(
        authz
            .authorize(&narrow, "documents:delete")
            .await
            .unwrap_err()
            .gate(),
        Gate::Scope
    );
}

#[tokio::test]
async fn policies_stored_before_namespaces_keep_their_meaning() {
    // Rows as an older version wrote them, before the namespace migration.
    let store = Store::connect(&temp_sqlite_url("legacy")).await.unwrap();
    store.migrate_to(2, &[]).await.unwrap();
    for (ptype, v0, v1, v2) in [
        ("p", "editor", "documents", "read"),
        ("g", "bob", "editor", ""),
    ] {
        sqlx::query("INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES ($1, $2, $3, $4)")
            .bind(ptype)
            .bind(v0)
            .bind(v1)
            .bind(v2)
            .execute(store.pool())
            .await
            .unwrap();
    }
    store.migrate(&[]).await.unwrap();
    let authz = Authorizer::persistent(&store).await.unwrap();
    let bob = Principal::new("bob", ["documents:*"]);
    assert!(authz.authorize(&bob, "documents:read").await.is_ok());
    let editor = Principal::new("editor", ["documents:*"]);
    assert!(authz.authorize(&editor, "documents:read").await.is_err());
}

#[tokio::test]
async fn a_broken_store_denies() {
    let store = Store::connect(&temp_sqlite_url("broken")).await.unwrap();
    store.migrate(&[]).await.unwrap();
    let authz = Authorizer::persistent(&store).await.unwrap();
    seed(&authz).await;
    store.pool().close().await;
    let alice = Principal::new("alice", ["documents:read"]);
    assert!(authz.authorize(&alice, "documents:read").await.is_ok());
    // A write fails and grants nothing.
    assert!(authz.grant("viewer", "documents", "delete").await.is_err());
    let carol = Principal::new("carol", ["documents:delete"]);
    assert_eq!(
        authz
            .authorize(&carol, "documents:delete")
            .await
            .unwrap_err()
            .gate(),
        Gate::Role
    );
    // A failed reload leaves no grant in force, not even alice's.
    assert!(authz.reload().await.is_err());
    assert_eq!(
        authz
            .authorize(&alice, "documents:read")
            .await
            .unwrap_err()
            .gate(),
        Gate::Role
    );
}

/// Decisions are cached, and every policy change forgets them: a revocation,
/// a grant or a reload is seen by the very next decision.
#[tokio::test]
async fn cached_decisions_never_outlive_a_policy_change() {
    let authz = Authorizer::in_memory().await;
    authz.grant("editor", "documents", "update").await.unwrap();
    authz.assign("bob", "editor").await.unwrap();
    let bob = Principal::new("bob", ["documents:update"]);
    // Twice: the second answer comes from the cache.
    for _ in 0..2 {
        assert!(authz.authorize(&bob, "documents:update").await.is_ok());
    }
    authz.revoke("editor", "documents", "update").await.unwrap();
    assert_eq!(
        authz
            .authorize(&bob, "documents:update")
            .await
            .unwrap_err()
            .gate(),
        Gate::Role
    );
    authz.grant("editor", "documents", "update").await.unwrap();
    assert!(authz.authorize(&bob, "documents:update").await.is_ok());
    assert_eq!(
        authz.allows("bob", "documents", "update").await.unwrap(),
        authz
            .allows_uncached("bob", "documents", "update")
            .await
            .unwrap()
    );
}

/// Deletes an object, given its owner (a stand-in for one read from a store).
#[secure_tool(scope = "notes:delete", max_len(owner = 64))]
fn delete_checked(grant: Grant, owner: String) -> Result<String, Reject> {
    grant.check(&owner)?;
    Ok(format!("deleted an object of {owner}"))
}

/// The same action, by a body that never looks at owners.
#[secure_tool(scope = "notes:delete", max_len(owner = 64))]
fn delete_unchecked(owner: String) -> Result<String, Reject> {
    Ok(format!("deleted an object of {owner}"))
}

server!(Owned {
    delete_checked,
    delete_unchecked
});

async fn owned_server(authz: Authorizer) -> Server<Owned> {
    let token = |subject: &str| StaticToken {
        subject: subject.to_owned(),
        audience: "owned".to_owned(),
        expires_at: u64::MAX,
        scopes: vec!["notes:delete".to_owned()],
    };
    let tokens = StaticTokens::new("owned")
        .with("admin-token", token("alice"))
        .with("editor-token", token("bob"));
    Server::new(Owned)
        .with_verifier(tokens)
        .with_authorizer(authz)
}

async fn delete(
    server: &Server<Owned>,
    tool: &str,
    token: &str,
    owner: &str,
) -> Result<(), &'static str> {
    let serde_json::Value::Object(args) = serde_json::json!({"token": token, "owner": owner})
    else {
        unreachable!()
    };
    let trace = server.call(tool, args).await;
    match trace.record.gate {
        None => {
            assert!(trace.executed);
            Ok(())
        }
        Some(gate) => Err(gate),
    }
}

#[tokio::test]
async fn a_grant_on_own_objects_reaches_only_the_callers_objects() {
    let store = Store::connect(&temp_sqlite_url("owner")).await.unwrap();
    store.migrate(&[]).await.unwrap();
    let authz = Authorizer::persistent(&store).await.unwrap();
    authz.grant("admin", "notes", "delete").await.unwrap();
    authz
        .grant_on("editor", "notes", "delete", Reach::Own)
        .await
        .unwrap();
    authz.assign("alice", "admin").await.unwrap();
    authz.assign("bob", "editor").await.unwrap();
    // The owner is an attribute of the request: casbin decides on it.
    assert!(
        authz
            .allows_on("bob", "notes", "delete", "bob")
            .await
            .unwrap()
    );
    assert!(
        !authz
            .allows_on("bob", "notes", "delete", "alice")
            .await
            .unwrap()
    );
    assert!(!authz.allows("bob", "notes", "delete").await.unwrap());
    assert!(
        authz
            .allows_on("alice", "notes", "delete", "bob")
            .await
            .unwrap()
    );
    let bob = Principal::new("bob", ["notes:delete"]);
    assert_eq!(
        authz.authorize(&bob, "notes:delete").await.unwrap(),
        Reach::Own
    );
    // The reach persists: a new process decides the same.
    let reopened = Authorizer::persistent(&store).await.unwrap();
    assert_eq!(
        reopened.reach("bob", "notes", "delete").await.unwrap(),
        Some(Reach::Own)
    );

    let server = owned_server(reopened).await;
    // The editor deletes its own object through the tool that checks owners...
    assert_eq!(
        delete(&server, "delete_checked", "editor-token", "bob").await,
        Ok(())
    );
    // ...and nobody else's: the body refuses at the owner gate.
    assert_eq!(
        delete(&server, "delete_checked", "editor-token", "alice").await,
        Err(Gate::Owner.as_str())
    );
    // A tool that does not check owners refuses an owner-only grant outright,
    // even for the caller's own object: it cannot tell.
    assert_eq!(
        delete(&server, "delete_unchecked", "editor-token", "bob").await,
        Err(Gate::Role.as_str())
    );
    // A role that reaches any object passes both.
    for tool in ["delete_checked", "delete_unchecked"] {
        assert_eq!(delete(&server, tool, "admin-token", "bob").await, Ok(()));
    }
}

#[tokio::test]
async fn a_grant_without_its_reach_grants_nothing() {
    let store = Store::connect(&temp_sqlite_url("reachless")).await.unwrap();
    store.migrate(&[]).await.unwrap();
    let authz = Authorizer::persistent(&store).await.unwrap();
    seed(&authz).await;
    assert_matrix(&authz).await;
    // A row written by hand after the migration, without `any` or `own`.
    sqlx::query("INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES ('p', 'role:viewer', 'documents', 'delete')")
        .execute(store.pool())
        .await
        .unwrap();
    authz.reload().await.unwrap();
    // It grants nothing, and every other decision stands.
    let carol = Principal::new("carol", ["documents:*"]);
    let refused = authz
        .authorize(&carol, "documents:delete")
        .await
        .unwrap_err();
    assert_eq!(refused.gate(), Gate::Role);
    assert!(!authz.allows("carol", "documents", "delete").await.unwrap());
    assert_matrix(&authz).await;
}

#[tokio::test]
async fn revoking_withdraws_a_grant_whatever_its_reach() {
    let authz = Authorizer::in_memory().await;
    authz
        .grant_on("editor", "notes", "delete", Reach::Own)
        .await
        .unwrap();
    authz.grant("editor", "notes", "delete").await.unwrap();
    authz.assign("bob", "editor").await.unwrap();
    assert_eq!(
        authz.reach("bob", "notes", "delete").await.unwrap(),
        Some(Reach::Any)
    );
    authz.revoke("editor", "notes", "delete").await.unwrap();
    assert_eq!(authz.reach("bob", "notes", "delete").await.unwrap(), None);
}
