//! secure-tool's `Limiter` against governor's keyed limiter.
//!
//! Both allow a burst of 10⁹ calls refilled at one a second, so no call is
//! refused, no bucket is ever full (idle) again during a run, and every
//! iteration measures the bookkeeping of one admitted call: one subject
//! (a hot key), 10,000 and 100,000 subjects in turn (tables that do not fit
//! in cache), and a subject plus a per-tool rate (two buckets, which governor checks as
//! two limiters and secure-tool checks under one lock, so that a refusal by
//! one takes nothing from the other).

use std::hint::black_box;
use std::num::NonZeroU32;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use governor::{Quota, RateLimiter};
use secure_tool::Rate;
use secure_tool::limit::Limiter;

const BURST: u32 = 1_000_000_000;

/// The output of a future that needs no waiting, as an in-process check is:
/// polled once, with no runtime.
fn ready<T>(future: impl std::future::Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => unreachable!("an in-process check does not wait"),
    }
}

fn subjects(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("subject-{i}")).collect()
}

fn bench(c: &mut Criterion) {
    let rate = Rate::new(BURST, Duration::from_secs(BURST.into()));
    let quota = Quota::with_period(Duration::from_secs(1))
        .unwrap()
        .allow_burst(NonZeroU32::new(BURST).unwrap());

    for n in [1, 10_000, 100_000] {
        let keys = subjects(n);
        let mut group = c.benchmark_group(format!("{n} subjects"));
        group.bench_function("secure-tool", |b| {
            let limiter = Limiter::new(Some(rate));
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % n;
                black_box(ready(limiter.check(&keys[i], "tool", None))).unwrap();
            })
        });
        group.bench_function("governor", |b| {
            let limiter = RateLimiter::keyed(quota);
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % n;
                black_box(limiter.check_key(&keys[i])).unwrap();
            })
        });
        group.finish();
    }

    let keys = subjects(1);
    let mut group = c.benchmark_group("subject and tool rate");
    group.bench_function("secure-tool", |b| {
        let limiter = Limiter::new(Some(rate));
        b.iter(|| black_box(ready(limiter.check(&keys[0], "tool", Some(rate)))).unwrap())
    });
    group.bench_function("governor", |b| {
        let subject = RateLimiter::keyed(quota);
        let tool = RateLimiter::keyed(quota);
        let pair = (keys[0].clone(), "tool");
        b.iter(|| {
            black_box(subject.check_key(&keys[0])).unwrap();
            black_box(tool.check_key(&pair)).unwrap();
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
