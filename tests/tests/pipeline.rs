//! The request pipeline end to end: authentication, both halves of
//! authorization, audit rows in SQLite, and failing closed when the audit
//! store is gone. The scoped tools below also get their generated tests
//! (`read_note::rejects_role_denied`, …), which run in this binary.

use secure_tool::audit::Outcome;
use secure_tool::audit::SqlAudit;
use secure_tool::testing::Capture;
use secure_tool::{
    Audit, Authorizer, Reject, Server, StaticToken, StaticTokens, Store, secure_tool, server,
};
use secure_tool_test_support::temp_sqlite_url;
use secure_tool_tests::{call, connect, text};
use serde_json::{Value, json};
use sqlx::Row as _;

/// Reads a note.
#[secure_tool(scope = "documents:read", max(id = 1000))]
fn read_note(id: u32) -> Result<String, Reject> {
    Ok(format!("note {id}"))
}

/// Replaces a note's text.
#[secure_tool(scope = "documents:update", max(id = 1000), max_len(text = 100))]
fn update_note(id: u32, text: String) -> Result<String, Reject> {
    Ok(format!("note {id} is now {} chars", text.chars().count()))
}

server!(Notes {
    read_note,
    update_note
});

const SERVER: &str = "secure-tool-tests";

fn tokens() -> StaticTokens {
    let token = |subject: &str, audience: &str, expires_at: u64, scopes: &[&str]| StaticToken {
        subject: subject.into(),
        audience: audience.into(),
        expires_at,
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
    };
    let all = [
        "documents:create",
        "documents:read",
        "documents:update",
        "documents:delete",
    ];
    StaticTokens::new(SERVER)
        .with("alice-token", token("alice", SERVER, u64::MAX, &all))
        .with(
            "alice-read-only",
            token("alice", SERVER, u64::MAX, &["documents:read"]),
        )
        .with(
            "bob-token",
            token(
                "bob",
                SERVER,
                u64::MAX,
                &["documents:read", "documents:update"],
            ),
        )
        .with(
            "dave-token",
            token("dave", SERVER, u64::MAX, &["documents:*"]),
        )
        .with("expired-token", token("alice", SERVER, 1, &all))
        .with(
            "elsewhere-token",
            token("alice", "other-service", u64::MAX, &all),
        )
}

async fn authorizer() -> Authorizer {
    let authz = Authorizer::in_memory().await;
    for action in ["create", "read", "update", "delete"] {
        authz.grant("admin", "documents", action).await.unwrap();
    }
    authz.grant("editor", "documents", "read").await.unwrap();
    authz.grant("editor", "documents", "update").await.unwrap();
    authz.assign("alice", "admin").await.unwrap();
    authz.assign("bob", "editor").await.unwrap();
    authz
}

async fn notes(store: Option<&Store>) -> Server<Notes> {
    let mut audit = Audit::default();
    if let Some(store) = store {
        audit = audit.with_sink(SqlAudit::new(store.clone()));
    }
    Server::new(Notes)
        .with_verifier(tokens())
        .with_authorizer(authorizer().await)
        .with_audit(audit)
}

fn args(value: Value) -> secure_tool::server::Arguments {
    match value {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn authentication_refuses_before_authorization() {
    let server = notes(None).await;
    for (token, reason) in [
        (None, "authentication failed: missing token"),
        (
            Some("forged"),
            "authentication failed: unknown or invalid token",
        ),
        (
            Some("expired-token"),
            "authentication failed: token expired",
        ),
        (
            Some("elsewhere-token"),
            "authentication failed: token audience \"other-service\" is not accepted (expected \"secure-tool-tests\")",
        ),
    ] {
        let mut a = json!({"id": 1});
        if let Some(token) = token {
            a["token"] = json!(token);
        }
        let trace = server.call("read_note", args(a)).await;
        assert_eq!(trace.record.outcome, Outcome::AuthFailed, "{token:?}");
        assert_eq!(trace.record.subject, "<unauthenticated>");
        assert_eq!(
            text(&trace.result),
            format!("rejected by auth gate: token: {reason}")
        );
        assert!(!trace.executed);
    }
}

#[tokio::test]
async fn a_down_scoped_token_cannot_update_even_for_an_admin() {
    let server = notes(None).await;
    let update = |token: &str| args(json!({"token": token, "id": 1, "text": "new"}));
    let refused = server.call("update_note", update("alice-read-only")).await;
    assert_eq!(refused.record.outcome, Outcome::NotAuthorized);
    assert_eq!(
        text(&refused.result),
        "rejected by scope gate: token scope is missing \"documents:update\""
    );
    assert!(!refused.executed);
    let allowed = server.call("update_note", update("alice-token")).await;
    assert_eq!(allowed.record.outcome, Outcome::Allowed);
    assert_eq!(text(&allowed.result), "note 1 is now 3 chars");
}

#[tokio::test]
async fn a_role_denied_subject_is_refused_even_with_the_scope() {
    let server = notes(None).await;
    let trace = server
        .call("read_note", args(json!({"token": "dave-token", "id": 1})))
        .await;
    assert_eq!(trace.record.outcome, Outcome::NotAuthorized);
    assert_eq!(trace.record.subject, "dave");
    assert_eq!(
        text(&trace.result),
        "rejected by role gate: role does not permit read on documents"
    );
    assert!(!trace.executed);
    let bob = server
        .call("read_note", args(json!({"token": "bob-token", "id": 7})))
        .await;
    assert_eq!(text(&bob.result), "note 7");
}

#[tokio::test]
async fn tokens_never_reach_a_log_line_or_a_message() {
    let capture = Capture::default();
    let _guard = capture.enter();
    let server = notes(None).await;
    let secret = "tok_live_9f8e7d6c5b4a39281706";
    let trace = server
        .call("read_note", args(json!({"token": secret, "id": 1})))
        .await;
    assert_eq!(trace.record.outcome, Outcome::AuthFailed);
    let ok = server
        .call("read_note", args(json!({"token": "alice-token", "id": 1})))
        .await;
    assert_eq!(ok.record.outcome, Outcome::Allowed);
    let everything = format!("{:?} {:?} {:?}", capture.all(), trace, ok);
    assert!(
        !everything.contains(secret) && !everything.contains("alice-token"),
        "{everything}"
    );
}

#[tokio::test]
async fn every_request_leaves_exactly_one_audit_row() {
    let store = Store::connect(&temp_sqlite_url("audit")).await.unwrap();
    store.migrate(&[]).await.unwrap();
    let server = notes(Some(&store)).await;
    let calls = [
        (
            "read_note",
            json!({"token": "alice-token", "id": 1}),
            Outcome::Allowed,
        ),
        (
            "read_note",
            json!({"token": "forged", "id": 1}),
            Outcome::AuthFailed,
        ),
        (
            "update_note",
            json!({"token": "alice-read-only", "id": 1, "text": "x"}),
            Outcome::NotAuthorized,
        ),
        (
            "read_note",
            json!({"token": "alice-token", "id": 1001}),
            Outcome::Invalid,
        ),
        ("nope", json!({}), Outcome::Invalid),
        (
            "update_note",
            json!({"token": "bob-token", "id": 2, "text": "y"}),
            Outcome::Allowed,
        ),
    ];
    for (tool, a, expected) in &calls {
        let trace = server.call(tool, args(a.clone())).await;
        assert_eq!(trace.record.outcome, *expected, "{tool} {a}");
    }
    let rows =
        sqlx::query("SELECT tool, subject, outcome, gate, reason FROM audit_log ORDER BY id")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(rows.len(), calls.len());
    let outcomes: Vec<String> = rows.iter().map(|r| r.get::<String, _>(2)).collect();
    let expected: Vec<&str> = calls.iter().map(|(_, _, o)| o.as_str()).collect();
    assert_eq!(outcomes, expected);
    assert_eq!(rows[0].get::<String, _>(1), "alice");
    assert_eq!(rows[1].get::<String, _>(1), "<unauthenticated>");
    assert_eq!(
        rows[3].get::<Option<String>, _>(3).as_deref(),
        Some("range")
    );
    // Append-only: the store itself refuses to rewrite history.
    assert!(
        sqlx::query("DELETE FROM audit_log")
            .execute(store.pool())
            .await
            .is_err()
    );
    assert!(
        sqlx::query("UPDATE audit_log SET outcome = 'allowed'")
            .execute(store.pool())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_failed_audit_write_withholds_the_result() {
    let store = Store::connect(&temp_sqlite_url("audit-down"))
        .await
        .unwrap();
    store.migrate(&[]).await.unwrap();
    let server = notes(Some(&store)).await;
    store.pool().close().await;
    let trace = server
        .call("read_note", args(json!({"token": "alice-token", "id": 1})))
        .await;
    assert_eq!(trace.result.is_error, Some(true));
    assert_eq!(
        text(&trace.result),
        "rejected by audit gate: audit log unavailable; result withheld"
    );
    assert_eq!(trace.record.outcome, Outcome::Failed);
    assert!(!text(&trace.result).contains("note 1"));
}

#[tokio::test]
async fn scoped_tools_advertise_the_token_argument() {
    let client = connect(notes(None).await).await;
    let tools = client.list_all_tools().await.unwrap();
    let schema = Value::Object((*tools[0].input_schema).clone());
    assert_eq!(schema["required"], json!(["id", "token"]));
    assert_eq!(schema["properties"]["token"]["type"], json!("string"));
    let result = call(
        &client,
        "read_note",
        json!({"token": "alice-token", "id": 3}),
    )
    .await;
    assert_eq!(text(&result), "note 3");
}
