//! The cost per call of the audit hash chain: linking the two entries an
//! executed call writes (its attempt and its outcome: canonical JSON and one
//! SHA-256 each), against serializing the same two entries to JSON, the work
//! any sink already does for them. Measured in the same run.
//!
//! `cargo bench -p secure-tool --bench audit_chain`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use secure_tool::audit::chain::Stream;
use secure_tool::audit::{Attempt, AuditRecord};
use serde_json::{Map, Value};

fn object(value: &impl serde::Serialize) -> Map<String, Value> {
    match serde_json::to_value(value).unwrap() {
        Value::Object(map) => map,
        _ => unreachable!("records are objects"),
    }
}

fn chain(c: &mut Criterion) {
    let attempt = Attempt::new("doc-server", "read_document", "carol", "documents:read");
    let mut record = AuditRecord::new(
        "doc-server",
        "read_document",
        "carol",
        "documents:read",
        Ok(&["spotlighted".to_owned()]),
    );
    record.call_id = Some(attempt.call_id.clone());
    record.duration_us = 412;
    let (attempt_entry, record_entry) = (object(&attempt), object(&record));

    let mut group = c.benchmark_group("audit chain per call");
    group.bench_function("serialize attempt + outcome (baseline)", |b| {
        b.iter(|| {
            let a = serde_json::to_string(black_box(&attempt)).unwrap();
            let r = serde_json::to_string(black_box(&record)).unwrap();
            black_box((a, r))
        })
    });
    let mut stream = Stream::new();
    group.bench_function("link attempt + outcome", |b| {
        b.iter(|| {
            let (a, r) = (attempt_entry.clone(), record_entry.clone());
            black_box((stream.link(a), stream.link(r)))
        })
    });
    group.finish();
}

criterion_group!(benches, chain);
criterion_main!(benches);
