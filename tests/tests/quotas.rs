//! Rate limits shared by replicas through the store: a subject's quota holds
//! across two replicas, each with a pool of its own, and a store that does not
//! answer refuses calls at the rate gate. The same statements run on SQLite
//! (always) and on PostgreSQL (when `DATABASE_URL` points at one).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use secure_tool::audit::Outcome;
use secure_tool::limit::{Limiter, lease_size};
use secure_tool::quota::SqlQuotas;
use secure_tool::store::Store;
use secure_tool::{Gate, Rate, Reject, Server, secure_tool, server};
use secure_tool_test_support::{fresh_postgres, temp_sqlite_url};

/// Answers, at most four times an hour per caller.
#[secure_tool(public, rate = "4/h")]
fn ping() -> Result<String, Reject> {
    Ok("pong".to_owned())
}

server!(Pinged { ping });

/// A migrated store at `url`, as one replica opens it.
async fn replica_store(url: &str) -> Store {
    let store = Store::connect(url).await.unwrap();
    store.migrate(&[]).await.unwrap();
    store
}

/// Where the tests run: a fresh SQLite file, and a fresh PostgreSQL database
/// when there is a server.
async fn urls(label: &str) -> Vec<String> {
    let mut urls = vec![temp_sqlite_url(label)];
    urls.extend(fresh_postgres(label).await);
    urls
}

/// Two replicas' limiters over one store at `url`, each with its own pool.
async fn two_limiters(url: &str, rate: Rate) -> [Arc<Limiter>; 2] {
    let mut limiters = Vec::new();
    for _ in 0..2 {
        let quotas = SqlQuotas::new(replica_store(url).await, "quota-test");
        limiters.push(Arc::new(Limiter::shared(Some(rate), Arc::new(quotas))));
    }
    limiters.try_into().unwrap()
}

/// The calls a rate admits within `elapsed` from a full bucket: its burst
/// and what refilled meanwhile.
fn allowance(rate: Rate, elapsed: Duration) -> u32 {
    rate.calls + (elapsed.as_secs_f64() / (rate.per / rate.calls).as_secs_f64()) as u32
}

#[tokio::test]
async fn two_replicas_hold_one_quota_under_concurrent_calls() {
    for url in urls("quota-two").await {
        // 30 an hour: a replica leases 3 at a time, and one more token
        // comes back every two minutes.
        let rate = Rate::new(30, Duration::from_secs(3600));
        assert_eq!(lease_size(rate), 3);
        let limiters = two_limiters(&url, rate).await;
        let admitted = Arc::new(AtomicU32::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        // Eight callers on each replica, 12 calls each: 192 calls for 30.
        for limiter in &limiters {
            for _ in 0..8 {
                let (limiter, admitted) = (limiter.clone(), admitted.clone());
                tasks.push(tokio::spawn(async move {
                    for _ in 0..12 {
                        match limiter.check("alice", "any", None).await {
                            Ok(()) => {
                                admitted.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(refused) => {
                                assert_eq!(refused.gate(), Gate::Rate);
                                let reason = refused.to_string();
                                assert!(reason.contains("30/h for this caller"), "{reason}");
                            }
                        }
                    }
                }));
            }
        }
        for task in tasks {
            task.await.unwrap();
        }
        let admitted = admitted.load(Ordering::Relaxed);
        // Each replica alone would have admitted 30; together they admit
        // the one quota, less at most the batch a replica's callers left
        // unspent when they stopped.
        let unspent = 2 * (lease_size(rate) - 1);
        assert!(admitted >= rate.calls - unspent, "{url}: {admitted}");
        assert!(
            admitted <= allowance(rate, started.elapsed()),
            "{url}: {admitted} admitted"
        );
        // Another subject has a quota of its own.
        limiters[1].check("bob", "any", None).await.unwrap();
    }
}

#[tokio::test]
async fn a_tool_rate_is_shared_too_and_a_refusal_takes_nothing_from_the_other_bucket() {
    for url in urls("quota-tool").await {
        let subject_rate = Rate::new(10, Duration::from_secs(3600));
        let tool_rate = Some(Rate::new(2, Duration::from_secs(3600)));
        let [a, b] = two_limiters(&url, subject_rate).await;
        a.check("carol", "ping", tool_rate).await.unwrap();
        b.check("carol", "ping", tool_rate).await.unwrap();
        for limiter in [&a, &b] {
            for _ in 0..3 {
                let refused = limiter.check("carol", "ping", tool_rate).await.unwrap_err();
                assert!(
                    refused.to_string().contains("2/h for this tool"),
                    "{refused}"
                );
            }
        }
        // Concurrent calls of the spent tool take nothing either.
        let calls = (0..8).map(|_| {
            let a = a.clone();
            tokio::spawn(async move { a.check("carol", "ping", tool_rate).await })
        });
        for call in calls {
            assert!(call.await.unwrap().is_err());
        }
        // Of carol's 10, 2 went to `ping`: 8 remain in the store, for a
        // third replica that never saw the refusals as for the two that did.
        let [c, _] = two_limiters(&url, subject_rate).await;
        let mut admitted = 0;
        for _ in 0..20 {
            if c.check("carol", "other", None).await.is_ok() {
                admitted += 1;
            }
        }
        assert_eq!(admitted, 8, "{url}");
        assert!(a.check("carol", "other", None).await.is_err());
    }
}

#[tokio::test]
async fn a_store_that_holds_the_row_locked_refuses_the_call_in_time() {
    for url in urls("quota-locked").await {
        let rate = Rate::new(5, Duration::from_secs(3600));
        let [limiter, _] = two_limiters(&url, rate).await;
        limiter.check("frank", "any", None).await.unwrap();
        // Another session holds the write lock (SQLite) or frank's row
        // (PostgreSQL) and does not let go.
        let holder = Store::connect(&url).await.unwrap();
        let mut held = holder.pool().begin().await.unwrap();
        let lock = match holder.backend() {
            secure_tool::store::Backend::Sqlite => {
                "UPDATE rate_quota SET at_us = at_us WHERE subject = 'frank'"
            }
            secure_tool::store::Backend::Postgres => {
                "SELECT full_us FROM rate_quota WHERE subject = 'frank' FOR UPDATE"
            }
        };
        sqlx::query(lock).execute(&mut *held).await.unwrap();
        let refused = limiter.check("frank", "any", None).await.unwrap_err();
        assert_eq!(refused.gate(), Gate::Rate);
        assert!(
            refused
                .to_string()
                .contains("shared quota store does not answer"),
            "{url}: {refused}"
        );
        held.rollback().await.unwrap();
        limiter.check("frank", "any", None).await.unwrap();
    }
}

#[tokio::test]
async fn a_spent_bucket_refuses_without_asking_the_store_again_until_it_refills() {
    for url in urls("quota-empty").await {
        let rate = Rate::new(2, Duration::from_secs(3600));
        let store = replica_store(&url).await;
        let limiter = Limiter::shared(
            Some(rate),
            Arc::new(SqlQuotas::new(store.clone(), "quota-test")),
        );
        limiter.check("gina", "any", None).await.unwrap();
        limiter.check("gina", "any", None).await.unwrap();
        let first = limiter.check("gina", "any", None).await.unwrap_err();
        assert!(first.to_string().contains("retry after"), "{first}");
        // The store said when a token fits again (in half an hour): until
        // then the replica refuses by itself, even with the store gone, and
        // the refusal says the same.
        store.pool().close().await;
        for _ in 0..100 {
            let refused = limiter.check("gina", "any", None).await.unwrap_err();
            assert!(
                refused
                    .to_string()
                    .contains("rate limit of 2/h for this caller exceeded"),
                "{refused}"
            );
        }
    }
}

#[tokio::test]
async fn a_replica_spends_its_batch_without_the_store_and_then_refuses_at_the_rate_gate() {
    for url in urls("quota-down").await {
        // 1,000 an hour: batches of 100.
        let rate = Rate::new(1000, Duration::from_secs(3600));
        let store = replica_store(&url).await;
        let limiter = Limiter::shared(
            Some(rate),
            Arc::new(SqlQuotas::new(store.clone(), "quota-test")),
        );
        limiter.check("dave", "any", None).await.unwrap();
        // The store goes away: the 99 tokens leased with the first call
        // still admit calls, without a round trip.
        store.pool().close().await;
        for i in 1..lease_size(rate) {
            limiter
                .check("dave", "any", None)
                .await
                .unwrap_or_else(|e| panic!("{url}: call {i} of the batch: {e}"));
        }
        // The batch is spent: the next call asks the store, which does not
        // answer, and is refused rather than let through.
        let refused = limiter.check("dave", "any", None).await.unwrap_err();
        assert_eq!(refused.gate(), Gate::Rate);
        assert!(
            refused
                .to_string()
                .contains("shared quota store does not answer"),
            "{refused}"
        );
        // So is another subject, which has no batch at all.
        assert!(limiter.check("erin", "any", None).await.is_err());
    }
}

#[tokio::test]
async fn a_call_over_a_store_that_does_not_answer_is_refused_before_its_body() {
    for url in urls("quota-gate").await {
        let store = replica_store(&url).await;
        let server = Server::new(Pinged).with_quotas(SqlQuotas::new(store.clone(), "pinged"));
        let ok = server.call("ping", Default::default()).await;
        assert_eq!(ok.record.outcome, Outcome::Allowed, "{url}");
        store.pool().close().await;
        let refused = server.call("ping", Default::default()).await;
        assert!(!refused.executed, "{url}");
        assert_eq!(refused.record.gate, Some(Gate::Rate.as_str()));
        assert_eq!(refused.record.outcome, Outcome::RateLimited);
        let reason = refused.record.reason.clone().unwrap_or_default();
        assert!(
            reason.contains("shared quota store does not answer"),
            "{reason}"
        );
    }
}

#[tokio::test]
async fn the_store_decides_sharing_postgresql_shares_and_sqlite_stays_in_process() {
    async fn admitted(url: &str) -> usize {
        let mut servers = Vec::new();
        for _ in 0..2 {
            let store = replica_store(url).await;
            servers.push(Server::new(Pinged).with_quota_store(&store));
        }
        let mut admitted = 0;
        for i in 0..16 {
            let trace = servers[i % 2].call("ping", Default::default()).await;
            if trace.record.outcome == Outcome::Allowed {
                admitted += 1;
            } else {
                assert_eq!(trace.record.gate, Some(Gate::Rate.as_str()));
            }
        }
        admitted
    }
    // `ping`'s 4 an hour, per replica on SQLite: 8 in all.
    assert_eq!(admitted(&temp_sqlite_url("quota-auto")).await, 8);
    let Some(url) = fresh_postgres("quota-auto").await else {
        eprintln!("DATABASE_URL does not point at PostgreSQL; skipping");
        return;
    };
    assert_eq!(admitted(&url).await, 4);
}

/// Over HTTP every request counts against its subject's quota first: with the
/// shared store gone and the batch spent, a tool call is refused at the rate
/// gate (a result the model reads) and any other request gets `503`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http_a_store_that_does_not_answer_refuses_calls_and_requests() {
    use doc_server::demo::{Config, USERS, build};
    use secure_tool_tests::http::{Session, result_text};

    let url = temp_sqlite_url("quota-http");
    let config = Config {
        demo: true,
        // A batch of one: every request asks the store.
        subject_rate: Some(Rate::new(19, Duration::from_secs(3600))),
        ..Config::new(url.clone())
    };
    let (server, _) = build(config).await.unwrap();
    let quota_store = replica_store(&url).await;
    let server = server.with_quotas(SqlQuotas::new(quota_store.clone(), "doc-server"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server.serve_http(listener, Default::default()));
    let mut carol = Session::open(addr, USERS[2].token).await;
    let listed = carol.rpc("tools/list", serde_json::json!({})).await;
    assert_eq!(listed.status, hyper::StatusCode::OK);

    quota_store.pool().close().await;
    let listed = carol.rpc("tools/list", serde_json::json!({})).await;
    assert_eq!(listed.status, hyper::StatusCode::SERVICE_UNAVAILABLE);
    let called = carol
        .call("read_document", serde_json::json!({"id": 1}))
        .await;
    let (error, text) = result_text(&called);
    assert!(error, "{text}");
    assert!(
        text.contains("rate gate") && text.contains("shared quota store does not answer"),
        "{text}"
    );
}
