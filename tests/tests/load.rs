//! Load: 8 concurrent MCP clients × 10,000 calls against doc-server, on SQLite
//! and on PostgreSQL, mixing allowed calls with each kind of refusal. Every
//! call is answered as expected, and the audit log holds one row per call.

use std::collections::BTreeMap;

use doc_server::demo::{Config, USERS, build};
use secure_tool_test_support::{fresh_postgres, temp_sqlite_url};
use secure_tool_tests::{call, connect, text};
use serde_json::json;

const CLIENTS: usize = 8;
const CALLS: usize = 10_000;

/// The call a client makes at step `i`, and the outcome it must get.
fn step(i: usize) -> (&'static str, serde_json::Value, &'static str) {
    let [alice, bob, carol, dave] = USERS.map(|u| u.token);
    match i % 8 {
        0 => (
            "create_document",
            json!({"token": alice, "title": "t", "content": "c"}),
            "allowed",
        ),
        1 | 2 => ("read_document", json!({"token": carol, "id": 1}), "allowed"),
        3 => (
            "update_document",
            json!({"token": bob, "id": 1, "content": "u"}),
            "allowed",
        ),
        4 => ("read_document", json!({"token": dave, "id": 1}), "scope"),
        5 => (
            "update_document",
            json!({"token": carol, "id": 1, "content": "x"}),
            "scope",
        ),
        6 => ("read_document", json!({"token": alice, "id": 0}), "range"),
        _ => ("read_document", json!({"token": "forged", "id": 1}), "auth"),
    }
}

fn outcome(result: &rmcp::model::CallToolResult) -> String {
    if result.is_error != Some(true) {
        return "allowed".to_owned();
    }
    let said = text(result);
    said.strip_prefix("rejected by ")
        .and_then(|rest| rest.split_once(" gate"))
        .map_or_else(
            || format!("unexpected: {said}"),
            |(gate, _)| gate.to_owned(),
        )
}

async fn load(url: String) {
    let config = Config {
        demo: true,
        // One subject makes thousands of calls a second here.
        subject_rate: None,
        ..Config::new(url.clone())
    };
    let (server, _) = build(config).await.expect("doc-server builds");
    // Document 1 exists before the readers start; bob (editor) owns it, so
    // his updates pass the owner gate.
    let seed = call(
        &connect(server.clone()).await,
        "create_document",
        json!({"token": USERS[1].token, "title": "t", "content": "c"}),
    )
    .await;
    assert_eq!(seed.is_error, Some(false));

    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let server = server.clone();
        clients.push(tokio::spawn(async move {
            let client = connect(server).await;
            let mut seen: BTreeMap<String, usize> = BTreeMap::new();
            for i in 0..CALLS {
                let (tool, args, expected) = step(i + c);
                let got = outcome(&call(&client, tool, args).await);
                assert_eq!(got, expected, "client {c}, call {i}: {tool}");
                *seen.entry(got).or_default() += 1;
            }
            seen
        }));
    }
    let mut total: BTreeMap<String, usize> = BTreeMap::new();
    for client in clients {
        for (outcome, n) in client.await.expect("no client panicked") {
            *total.entry(outcome).or_default() += n;
        }
    }
    assert_eq!(total.values().sum::<usize>(), CLIENTS * CALLS);
    assert_eq!(total["allowed"], CLIENTS * CALLS / 2, "{total:?}");

    server.pipeline().settle_audit().await.unwrap();
    let store = secure_tool::Store::connect(&url).await.unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(rows as usize, CLIENTS * CALLS + 1, "one audit row per call");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_clients_ten_thousand_calls_each_on_sqlite() {
    load(temp_sqlite_url("load")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_clients_ten_thousand_calls_each_on_postgres() {
    let Some(url) = fresh_postgres("load").await else {
        eprintln!("DATABASE_URL does not point at PostgreSQL; skipping");
        return;
    };
    load(url).await;
}
