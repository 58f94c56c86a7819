//! doc-server's read path on SQLite: `read_document` through the full
//! pipeline (token, scope, cached role decision, validation, the query,
//! redaction and spotlighting, and the audit row), in calls per second.
//!
//! `cargo bench -p secure-tool-tests --bench docs`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use doc_server::demo::{Config, USERS, build};
use secure_tool_test_support::temp_sqlite_url;
use serde_json::json;

fn read_path(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(async {
        let config = Config {
            demo: true,
            subject_rate: None,
            ..Config::new(temp_sqlite_url("bench-docs"))
        };
        let (server, _) = build(config).await.unwrap();
        let args = json!({"token": USERS[0].token, "title": "t", "content": "a page of text"});
        let created = server
            .call("create_document", args.as_object().unwrap().clone())
            .await;
        assert_eq!(created.result.is_error, Some(false));
        server
    });
    let read = json!({"token": USERS[2].token, "id": 1});
    let read = read.as_object().unwrap().clone();
    let mut group = c.benchmark_group("doc-server read path on SQLite");
    group.throughput(Throughput::Elements(1));
    group.bench_function("read_document", |b| {
        b.iter(|| {
            let trace = rt.block_on(server.call("read_document", black_box(read.clone())));
            assert_eq!(trace.result.is_error, Some(false));
        })
    });
    group.finish();
}

criterion_group!(benches, read_path);
criterion_main!(benches);
