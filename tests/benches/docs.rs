//! doc-server's read path on SQLite: `read_document` through the full
//! pipeline (token, scope, cached role decision, validation, the query,
//! redaction and spotlighting, and the audit), in calls per second.
//!
//! Two audits over the same database, measured in the same run:
//! - `write-ahead`: what doc-server does: an attempt row committed before the
//!   body runs, then the outcome row, which joins the next commit (another
//!   call's attempt, or a refusal) instead of holding the answer, through
//!   [`SqlAudit`]'s group commit;
//! - `one commit per call`: the outcome row alone, one `INSERT` per call on
//!   the pool, awaited before the answer: the audit before write-ahead.
//!
//! Each at concurrency 1 (one call at a time) and 8 (eight callers, each
//! making eight calls in turn).
//!
//! `cargo bench -p secure-tool-tests --bench docs`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use doc_server::demo::{Config, USERS, build};
use secure_tool::audit::{AuditError, AuditRecord, AuditSink, BoxFuture, SqlAudit};
use secure_tool::{Audit, Store};
use secure_tool_test_support::temp_sqlite_url;
use serde_json::json;

/// One `INSERT`, and so one commit, per record.
struct RowPerCommit(Store);

impl AuditSink for RowPerCommit {
    fn write<'a>(&'a self, r: &'a AuditRecord) -> BoxFuture<'a, Result<(), AuditError>> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO audit_log (time_ms, server, tool, subject, action, outcome, findings, duration_us) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(r.time_ms)
            .bind(&r.server)
            .bind(&r.tool)
            .bind(&r.subject)
            .bind(&r.action)
            .bind(r.outcome.as_str())
            .bind("[]")
            .bind(0_i64)
            .execute(self.0.pool())
            .await
            .map(drop)
            .map_err(|e| AuditError::new(e.to_string()))
        })
    }
}

fn read_path(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (server, docs) = rt.block_on(async {
        let config = Config {
            demo: true,
            subject_rate: None,
            ..Config::new(temp_sqlite_url("bench-docs"))
        };
        let (server, docs) = build(config).await.unwrap();
        let args = json!({"token": USERS[0].token, "title": "t", "content": "a page of text"});
        let created = server
            .call("create_document", args.as_object().unwrap().clone())
            .await;
        assert_eq!(created.result.is_error, Some(false));
        (server, docs)
    });
    let store = docs.store().clone();
    let audits = [
        (
            "write-ahead",
            Audit::default().with_sink(SqlAudit::new(store.clone())),
        ),
        (
            "one commit per call",
            Audit::default().with_sink(RowPerCommit(store.clone())),
        ),
    ];
    let read = json!({"token": USERS[2].token, "id": 1});
    let read = read.as_object().unwrap().clone();
    let mut group = c.benchmark_group("doc-server read path on SQLite");
    for (name, audit) in audits {
        let server = server.clone().with_audit(audit);
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("{name}, concurrency 1"), |b| {
            b.iter(|| {
                let trace = rt.block_on(server.call("read_document", black_box(read.clone())));
                assert_eq!(trace.result.is_error, Some(false));
            })
        });
        // Eight callers, each making its calls one after another: arrivals
        // interleave as a busy server's do, rather than in lockstep.
        group.throughput(Throughput::Elements(8 * 8));
        group.bench_function(format!("{name}, concurrency 8"), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let callers: Vec<_> = (0..8)
                        .map(|_| {
                            let server = server.clone();
                            let read = read.clone();
                            tokio::spawn(async move {
                                for _ in 0..8 {
                                    let trace = server.call("read_document", read.clone()).await;
                                    assert_eq!(
                                        trace.result.is_error,
                                        Some(false),
                                        "{:?}",
                                        trace.result
                                    );
                                }
                            })
                        })
                        .collect();
                    for caller in callers {
                        caller.await.unwrap();
                    }
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, read_path);
criterion_main!(benches);
