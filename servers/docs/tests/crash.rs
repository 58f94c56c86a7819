//! The audit trail across a crash and a clean exit, with the real binary on
//! SQLite: a process killed with SIGKILL mid-load has a durable attempt for
//! every call it acknowledged as executed (and no document without one), and
//! loses at most `SqlAudit::UNAWAITED_REFUSALS` refusal records; a clean exit
//! (stdin closed) loses none.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use doc_server::demo::USERS;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::service::{Peer, RoleClient};
use rmcp::transport::TokioChildProcess;
use secure_tool::audit::SqlAudit;
use serde_json::{Value, json};

const CLIENTS: usize = 8;

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("doc-server-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn start(db: &Path) -> (rmcp::service::RunningService<RoleClient, ()>, u32) {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_doc-server"));
    command
        .arg("--demo")
        .arg("--rate-limit")
        .arg("off")
        .arg("--database-url")
        .arg(format!("sqlite://{}", db.display()));
    let (transport, _) = TokioChildProcess::builder(command)
        .stderr(Stdio::null())
        .spawn()
        .expect("doc-server starts");
    let pid = transport.id().expect("doc-server has a pid");
    let client = ().serve(transport).await.expect("MCP handshake");
    (client, pid)
}

async fn call(peer: &Peer<RoleClient>, tool: &'static str, args: Value) -> Option<bool> {
    let Value::Object(args) = args else {
        unreachable!()
    };
    let params = CallToolRequestParams::new(tool).with_arguments(args);
    // An error is a call the server never answered.
    let result = peer.call_tool(params).await.ok()?;
    Some(result.is_error != Some(true))
}

async fn count(db: &Path, sql: &'static str) -> i64 {
    let store = secure_tool::store::Store::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar(sql)
        .fetch_one(store.pool())
        .await
        .unwrap();
    store.pool().close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_load_loses_no_acknowledged_execution() {
    let dir = scratch("crash");
    let db = dir.join("docs.db");
    let (client, pid) = start(&db).await;
    let bob = USERS[1].token;
    let created = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));

    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let peer = client.peer().clone();
        let (created, refused) = (created.clone(), refused.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                // Three forged-token refusals for every creation.
                let answered = if (i + c) % 4 == 0 {
                    let args = json!({"token": bob, "title": "crash", "content": "c"});
                    call(&peer, "create_document", args).await.inspect(|ok| {
                        assert!(*ok, "a creation by an editor is allowed");
                        created.fetch_add(1, Ordering::SeqCst);
                    })
                } else {
                    let args = json!({"token": "tok-forged", "id": 1});
                    call(&peer, "read_document", args).await.inspect(|ok| {
                        assert!(!*ok, "a forged token is refused");
                        refused.fetch_add(1, Ordering::SeqCst);
                    })
                };
                if answered.is_none() {
                    return;
                }
            }
        }));
    }
    // Kill once the load is well under way, between two groups or in one.
    while created.load(Ordering::SeqCst) < 500 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    for task in tasks {
        task.await.unwrap();
    }
    drop(client);
    let (created, refused) = (
        created.load(Ordering::SeqCst),
        refused.load(Ordering::SeqCst),
    );

    let attempts = count(
        &db,
        "SELECT COUNT(*) FROM audit_attempt WHERE tool = 'create_document'",
    )
    .await;
    let documents = count(&db, "SELECT COUNT(*) FROM documents WHERE title = 'crash'").await;
    let refusals = count(
        &db,
        "SELECT COUNT(*) FROM audit_log WHERE outcome = 'auth_failed'",
    )
    .await;
    eprintln!(
        "acknowledged: {created} creations, {refused} refusals; \
         stored: {attempts} attempts, {documents} documents, {refusals} refusals"
    );
    let created = i64::try_from(created).unwrap();
    assert!(
        attempts >= created,
        "{created} creations acknowledged, {attempts} attempts durable"
    );
    assert!(
        documents >= created && documents <= attempts,
        "{documents} documents for {attempts} attempts and {created} acknowledged creations"
    );
    let lost = i64::try_from(refused).unwrap() - refusals;
    assert!(
        lost <= i64::try_from(SqlAudit::UNAWAITED_REFUSALS).unwrap(),
        "{lost} acknowledged refusals lost"
    );

    // A crash cuts a stream short; it never breaks one.
    let url = format!("sqlite://{}", db.display());
    let (code, out) = verify_audit(&url);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.starts_with("verified: 1 stream(s)"), "{out}");
    // An administrator who edits a row, triggers dropped, is caught.
    let store = secure_tool::Store::connect(&url).await.unwrap();
    for sql in [
        "DROP TRIGGER audit_log_no_update",
        "UPDATE audit_log SET outcome = 'allowed' WHERE id = (SELECT MIN(id) FROM audit_log \
         WHERE outcome = 'auth_failed')",
    ] {
        sqlx::query(sql).execute(store.pool()).await.unwrap();
    }
    store.pool().close().await;
    let (code, out) = verify_audit(&url);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.starts_with("broken: stream "), "{out}");
    assert!(out.contains("hash does not match"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `doc-server verify-audit` on `url`: its exit status and what it printed.
fn verify_audit(url: &str) -> (Option<i32>, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_doc-server"))
        .args(["--database-url", url, "verify-audit"])
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout).into_owned()
        + &*String::from_utf8_lossy(&output.stderr);
    (output.status.code(), printed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_exit_writes_every_queued_refusal() {
    let dir = scratch("exit");
    let db = dir.join("docs.db");
    let (client, _) = start(&db).await;
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let peer = client.peer().clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..500 {
                let args = json!({"token": "tok-forged", "id": 1});
                assert_eq!(call(&peer, "read_document", args).await, Some(false));
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    // Closing stdin ends the session; the server settles its audit and exits.
    client.cancel().await.unwrap();
    let refusals = count(
        &db,
        "SELECT COUNT(*) FROM audit_log WHERE outcome = 'auth_failed'",
    )
    .await;
    assert_eq!(refusals, i64::try_from(CLIENTS * 500).unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}
