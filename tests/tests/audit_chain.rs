//! The audit trail is tamper-evident: every row and line is chained to the
//! one before it in its writer's stream, and verification finds a deleted,
//! changed or reordered entry, as a database administrator (or an attacker
//! with the database) would make it, by dropping the append-only triggers.
//! On SQLite always; on PostgreSQL when `DATABASE_URL` points at one.

use secure_tool::Reject;
use secure_tool::audit::chain::{self, Break, Verified};
use secure_tool::audit::{Attempt, AuditRecord, AuditSink, JsonLines, SqlAudit};
use secure_tool::store::{Backend, MIGRATIONS, Store};
use secure_tool_test_support::{fresh_postgres, temp_sqlite_url};

/// `calls` calls through `sink`: an attempt and its outcome each, every
/// third one refused instead (a record only), then settled.
async fn write_calls(sink: &impl AuditSink, calls: usize) {
    for i in 0..calls {
        if i % 3 == 2 {
            let reject = Reject::new("no such thing");
            let record = AuditRecord::new("chain", "read", "mallory", "docs:read", Err(&reject));
            sink.write(&record).await.unwrap();
            continue;
        }
        let attempt = Attempt::new("chain", "read", "alice\0", "docs:read");
        sink.attempt(&attempt).await.unwrap();
        let mut record = AuditRecord::new("chain", "read", "alice\0", "docs:read", Ok(&[]));
        record.call_id = Some(attempt.call_id.clone());
        record.duration_us = 42 + i as u64;
        sink.write(&record).await.unwrap();
    }
    sink.settle().await.unwrap();
}

async fn verify(store: &Store) -> Result<Verified, Break> {
    chain::verify_store(store)
        .await
        .expect("the store can be read")
}

/// What an administrator does first: the append-only triggers go.
async fn drop_triggers(store: &Store) {
    let statements: &[&str] = match store.backend() {
        Backend::Sqlite => &[
            "DROP TRIGGER audit_log_no_update",
            "DROP TRIGGER audit_log_no_delete",
            "DROP TRIGGER audit_attempt_no_update",
            "DROP TRIGGER audit_attempt_no_delete",
        ],
        Backend::Postgres => &[
            "DROP TRIGGER audit_log_append_only ON audit_log",
            "DROP TRIGGER audit_attempt_append_only ON audit_attempt",
        ],
    };
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(*sql))
            .execute(store.pool())
            .await
            .unwrap();
    }
}

async fn exec(store: &Store, sql: &str) {
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(store.pool())
        .await
        .unwrap();
}

/// A store with two writers' streams in it (two replicas, or two runs).
async fn chained_store(url: &str) -> Store {
    let store = Store::connect(url).await.unwrap();
    store.migrate(&[]).await.unwrap();
    write_calls(&SqlAudit::new(store.clone()), 30).await;
    write_calls(&SqlAudit::new(store.clone()), 9).await;
    store
}

async fn tampering_is_found(url: &str) {
    let store = chained_store(url).await;
    let clean = verify(&store).await.expect("a clean trail verifies");
    assert_eq!(clean.streams.len(), 2, "{clean:?}");
    // 30 calls: 20 ran (2 rows each), 10 refused (1 row); 9 calls: 6 + 3.
    let mut lengths: Vec<i64> = clean.streams.iter().map(|(_, n, _)| *n).collect();
    lengths.sort();
    assert_eq!(lengths, [15, 50]);
    assert_eq!(clean.unchained, 0);
    drop_triggers(&store).await;

    // Edited: an outcome's reason.
    exec(
        &store,
        "UPDATE audit_log SET reason = 'nothing happened' WHERE id = 3",
    )
    .await;
    let edited = verify(&store).await.expect_err("an edit is found");
    assert!(edited.reason.contains("hash does not match"), "{edited}");
    assert_eq!(edited.at, "audit_log id 3", "{edited}");
    exec(
        &store,
        "UPDATE audit_log SET reason = 'no such thing' WHERE id = 3",
    )
    .await;
    verify(&store).await.expect("undone, it verifies again");

    // Deleted: a row in the middle of a stream.
    let (stream, seq): (String, i64) =
        sqlx::query_as("SELECT stream, seq FROM audit_log WHERE id = 10")
            .fetch_one(store.pool())
            .await
            .unwrap();
    exec(&store, "DELETE FROM audit_log WHERE id = 10").await;
    let deleted = verify(&store).await.expect_err("a deletion is found");
    assert_eq!(
        (deleted.stream.as_str(), deleted.seq),
        (stream.as_str(), seq)
    );
    assert!(deleted.reason.contains("missing"), "{deleted}");
}

async fn reordering_is_found(url: &str) {
    let store = chained_store(url).await;
    drop_triggers(&store).await;
    // Two rows trade places in their stream: each takes the other's number
    // and hash, so that the order by number is the new one.
    let rows: Vec<(i64, i64, String)> =
        sqlx::query_as("SELECT id, seq, hash FROM audit_log WHERE id IN (4, 5) ORDER BY id")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let [(a, a_seq, a_hash), (b, b_seq, b_hash)] = <[_; 2]>::try_from(rows).unwrap();
    for (id, seq, hash) in [(a, b_seq, &b_hash), (b, a_seq, &a_hash)] {
        exec(
            &store,
            &format!("UPDATE audit_log SET seq = {seq}, hash = '{hash}' WHERE id = {id}"),
        )
        .await;
    }
    let moved = verify(&store).await.expect_err("a move is found");
    assert!(moved.reason.contains("hash does not match"), "{moved}");
    assert_eq!(
        (moved.seq, moved.at.as_str()),
        (a_seq.min(b_seq), format!("audit_log id {b}").as_str())
    );

    // Renumbered instead: a row takes the number of the one after it, as
    // if to move it there; its own number is then missing.
    let store = chained_store(&fresh_url(url).await).await;
    drop_triggers(&store).await;
    let (seq,): (i64,) = sqlx::query_as("SELECT seq FROM audit_log WHERE id = 4")
        .fetch_one(store.pool())
        .await
        .unwrap();
    exec(&store, "UPDATE audit_log SET seq = seq + 1 WHERE id = 4").await;
    let renumbered = verify(&store).await.expect_err("a renumbering is found");
    assert_eq!(renumbered.seq, seq, "{renumbered}");
}

async fn forged_and_unlinked_rows_are_found(url: &str) {
    let store = chained_store(url).await;
    // A row added without a chain, as if written before it began.
    exec(
        &store,
        "INSERT INTO audit_log (time_ms, server, tool, subject, action, outcome, findings, \
         duration_us) VALUES (1, 'chain', 'read', 'alice', 'docs:read', 'allowed', '[]', 1)",
    )
    .await;
    let forged = verify(&store).await.expect_err("a forged row is found");
    assert!(
        forged.reason.contains("added after the chain began"),
        "{forged}"
    );
    assert!(forged.at.starts_with("audit_log id "), "{forged}");

    // A chained row taken out of its chain by clearing its hash.
    let store = chained_store(&fresh_url(url).await).await;
    drop_triggers(&store).await;
    exec(&store, "UPDATE audit_log SET hash = NULL WHERE id = 7").await;
    let unlinked = verify(&store).await.expect_err("an unlinked row is found");
    assert_eq!(unlinked.at, "audit_log id 7", "{unlinked}");
    assert!(
        unlinked.reason.contains("missing or mistyped"),
        "{unlinked}"
    );
}

/// An audit file path of its own under the temp directory, not yet there.
fn fresh_file(label: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("secure-tool-{label}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("audit.jsonl");
    let _ = std::fs::remove_file(&path);
    path
}

/// Another database on the same server as `url` (or another SQLite file).
async fn fresh_url(url: &str) -> String {
    if url.starts_with("sqlite:") {
        temp_sqlite_url("chain")
    } else {
        fresh_postgres("chain").await.unwrap()
    }
}

#[tokio::test]
async fn sqlite_tampering_is_found() {
    tampering_is_found(&temp_sqlite_url("chain")).await;
    reordering_is_found(&temp_sqlite_url("chain")).await;
    forged_and_unlinked_rows_are_found(&temp_sqlite_url("chain")).await;
}

#[tokio::test]
async fn postgres_tampering_is_found() {
    let Some(url) = fresh_postgres("chain").await else {
        return;
    };
    tampering_is_found(&url).await;
    reordering_is_found(&fresh_postgres("chain").await.unwrap()).await;
    forged_and_unlinked_rows_are_found(&fresh_postgres("chain").await.unwrap()).await;
}

#[tokio::test]
async fn rows_written_before_the_chain_are_counted_apart() {
    let url = temp_sqlite_url("chain-old");
    let store = Store::connect(&url).await.unwrap();
    store.migrate_to(7, &[]).await.unwrap();
    exec(
        &store,
        "INSERT INTO audit_log (time_ms, server, tool, subject, action, outcome, findings, \
         duration_us) VALUES (1, 's', 't', 'u', 'call', 'allowed', '[]', 1)",
    )
    .await;
    store.migrate(&[]).await.unwrap();
    assert!(
        MIGRATIONS
            .iter()
            .any(|m| m.version == 8 && m.description == "audit hash chain")
    );
    write_calls(&SqlAudit::new(store.clone()), 3).await;
    let verified = verify(&store).await.unwrap();
    assert_eq!(verified.unchained, 1);
    assert_eq!(verified.streams.len(), 1);
}

#[tokio::test]
async fn a_json_lines_file_verifies_and_shows_each_change() {
    let path = fresh_file("chain");
    // Opened twice: two streams, one after the other.
    write_calls(&JsonLines::open(&path).unwrap(), 6).await;
    write_calls(&JsonLines::open(&path).unwrap(), 3).await;
    let text = std::fs::read_to_string(&path).unwrap();
    let verified = chain::verify_lines(&text).expect("a clean file verifies");
    assert_eq!(verified.streams.len(), 2);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 10 + 5);

    let edited = text.replacen("alice", "carol", 1);
    let found = chain::verify_lines(&edited).expect_err("an edit is found");
    assert!(found.reason.contains("hash does not match"), "{found}");
    assert_eq!(found.at, "line 1");

    let mut deleted = lines.clone();
    deleted.remove(4);
    let found = chain::verify_lines(&deleted.join("\n")).expect_err("a deletion is found");
    assert!(found.reason.contains("missing"), "{found}");
    assert_eq!(found.seq, 4);

    let mut swapped = lines.clone();
    swapped.swap(2, 3);
    let found = chain::verify_lines(&swapped.join("\n")).expect_err("a reordering is found");
    assert_eq!(found.seq, 2, "{found}");

    let doubled = text.replacen("\"seq\":", "\"seq\":99,\"seq\":", 1);
    let found = chain::verify_lines(&doubled).expect_err("a key twice is found");
    assert_eq!(found.at, "line 1");
    assert!(
        found.reason.contains("not as a writer writes it"),
        "{found}"
    );

    let mut unchained = lines.clone();
    unchained.insert(5, r#"{"server":"chain","subject":"mallory"}"#);
    let found = chain::verify_lines(&unchained.join("\n")).expect_err("an added line is found");
    assert_eq!(found.at, "line 6");
}

#[tokio::test]
async fn a_line_cut_by_a_crash_is_reported_and_the_file_goes_on() {
    use std::io::Write as _;
    let path = fresh_file("torn");
    write_calls(&JsonLines::open(&path).unwrap(), 3).await;
    // The process dies in the middle of its next line.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    file.write_all(b"{\"attempt\":{\"call_id\":\"0a").unwrap();
    drop(file);
    // Restarted, the server appends on a line of its own, in a new stream.
    write_calls(&JsonLines::open(&path).unwrap(), 3).await;
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 5 + 1 + 5);
    let found = chain::verify_lines(&text).expect_err("the cut line is reported");
    assert_eq!(found.at, "line 6");
    assert!(found.reason.contains("cut short"), "{found}");
    // Both streams hold on either side of it.
    let lines: Vec<&str> = text.lines().collect();
    let whole = [&lines[..5], &lines[6..]].concat().join("\n");
    assert_eq!(chain::verify_lines(&whole).unwrap().streams.len(), 2);
}
