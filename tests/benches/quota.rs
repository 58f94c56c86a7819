//! The cost of a rate check per call: in-process buckets against buckets
//! shared through the store, which a replica leases in batches (one round
//! trip per batch, a token from the batch otherwise). Measured in the same
//! run, on SQLite, and on PostgreSQL when `DATABASE_URL` points at one.
//!
//! No call is refused (each subject spends exactly its burst): a refusal
//! would measure the wrong path, so the bench panics on one instead.
//!
//! `cargo bench -p secure-tool-tests --bench quota`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use secure_tool::limit::{Limiter, lease_size};
use secure_tool::quota::SqlQuotas;
use secure_tool::{Rate, Store};
use secure_tool_test_support::temp_sqlite_url;

fn check(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut stores = vec![("SQLite", temp_sqlite_url("bench-quota"))];
    if let Ok(url) = std::env::var("DATABASE_URL")
        && url.starts_with("postgres")
    {
        stores.push(("PostgreSQL", url));
    }
    // Each iteration is a fresh subject spending its whole burst, ten
    // batches: 1,000, 100 and 10 calls an hour, leased 100, 10 and 1 at a
    // time (the last asks the store at every call: the round trip itself).
    let mut next = 0u64;
    let mut spend = |limiter: &Limiter, rate: Rate| {
        next += 1;
        let subject = format!("subject-{next}");
        rt.block_on(async {
            for _ in 0..rate.calls {
                limiter
                    .check(black_box(&subject), "tool", None)
                    .await
                    .unwrap();
            }
        })
    };
    let hour = Duration::from_secs(3600);
    let mut group = c.benchmark_group("rate check per call");
    let baseline = Rate::new(1000, hour);
    let local = Limiter::new(Some(baseline));
    group.throughput(Throughput::Elements(baseline.calls.into()));
    group.bench_function("in-process (baseline)", |b| {
        b.iter(|| spend(&local, baseline))
    });
    for (name, url) in stores {
        let store = rt.block_on(async {
            let store = Store::connect(&url).await.unwrap();
            store.migrate(&[]).await.unwrap();
            store
        });
        for rate in [1000, 100, 10].map(|calls| Rate::new(calls, hour)) {
            let quotas = SqlQuotas::new(store.clone(), "bench-quota");
            let shared = Limiter::shared(Some(rate), Arc::new(quotas));
            let label = format!("shared on {name}, batches of {}", lease_size(rate));
            group.throughput(Throughput::Elements(rate.calls.into()));
            group.bench_function(label, |b| b.iter(|| spend(&shared, rate)));
        }
    }
    group.finish();
}

criterion_group!(benches, check);
criterion_main!(benches);
