//! The per-call cost of two guards: SSRF classification of a URL, and the
//! casbin decision with and without the decision cache.
//!
//! `cargo bench -p secure-tool --bench guards`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use secure_tool::guards::ssrf::check;
use secure_tool::testing::test_guards;
use secure_tool::{Authorizer, Principal};

fn ssrf(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let policy = test_guards().fetch;
    let mut group = c.benchmark_group("ssrf check per URL");
    for (name, url) in [
        ("public IPv4", "https://93.184.215.14/index.html"),
        ("metadata IPv4", "https://169.254.169.254/latest/meta-data/"),
        ("hex-encoded loopback", "https://0x7f000001/"),
        ("IPv4-mapped IPv6", "https://[::ffff:10.0.0.1]/"),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| rt.block_on(check("url", black_box(url), &policy)).is_ok())
        });
    }
    group.finish();
}

fn casbin(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let authz = rt.block_on(async {
        let authz = Authorizer::in_memory().await;
        for (role, actions) in [
            ("admin", &["create", "read", "update", "delete"][..]),
            ("editor", &["read", "update"][..]),
            ("viewer", &["read"][..]),
        ] {
            for action in actions {
                authz.grant(role, "documents", action).await.unwrap();
            }
        }
        for (user, role) in [("alice", "admin"), ("bob", "editor"), ("carol", "viewer")] {
            authz.assign(user, role).await.unwrap();
        }
        authz
    });
    let bob = Principal::new("bob", ["documents:update"]);
    let mut group = c.benchmark_group("casbin decision per call");
    group.bench_function("cached", |b| {
        b.iter(|| rt.block_on(authz.allows(black_box("bob"), "documents", "update")))
    });
    group.bench_function("uncached", |b| {
        b.iter(|| rt.block_on(authz.allows_uncached(black_box("bob"), "documents", "update")))
    });
    group.bench_function("authorize (scope + cached role)", |b| {
        b.iter(|| rt.block_on(authz.authorize(black_box(&bob), "documents:update")))
    });
    group.finish();
}

criterion_group!(benches, ssrf, casbin);
criterion_main!(benches);
