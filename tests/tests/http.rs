//! doc-server over streamable HTTP on loopback: bearer authentication with
//! RFC 9728 challenges, scope-filtered listing, bounded bodies, rate limits,
//! and two replicas sharing one PostgreSQL.

use std::net::SocketAddr;
use std::time::Duration;

use doc_server::DocServer;
use doc_server::demo::{Config, USERS, build};
use hyper::{Method, StatusCode};
use secure_tool::http::HttpOptions;
use secure_tool::{Rate, Server};
use secure_tool_test_support::{
    LoopbackOrigin, Route, fresh_postgres, loopback_fetch_policy, temp_sqlite_url,
};
use secure_tool_tests::http::{Browser, Session, call_2026, page_question, result_text, send};
use serde_json::json;

const ALICE: &str = USERS[0].token;
const BOB: &str = USERS[1].token;
const CAROL: &str = USERS[2].token;

/// Builds doc-server over `config` and serves it over HTTP on a free loopback port.
async fn start(config: Config, options: HttpOptions) -> (SocketAddr, Server<DocServer>) {
    let (server, _) = build(config).await.expect("doc-server builds");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free loopback port");
    let addr = listener.local_addr().expect("bound");
    tokio::spawn(server.clone().serve_http(listener, options));
    (addr, server)
}

fn demo(url: String) -> Config {
    Config {
        demo: true,
        ..Config::new(url)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callers_token_is_never_passed_to_what_a_tool_fetches() {
    let origin = LoopbackOrigin::start(vec![("/headers", Route::Headers)])
        .await
        .unwrap();
    let config = Config {
        guards: secure_tool::pipeline::Guards {
            fetch: loopback_fetch_policy(),
            ..secure_tool::pipeline::Guards::default()
        },
        ..demo(temp_sqlite_url("http-passthrough"))
    };
    let (addr, _) = start(config, HttpOptions::default()).await;
    let mut alice = Session::open(addr, ALICE).await;
    let imported = alice
        .call("import_url", json!({"url": origin.url("/headers")}))
        .await;
    let (error, text) = result_text(&imported);
    assert!(!error, "{text}");
    let id: i64 = text
        .split("id=")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    let read = alice.call("read_document", json!({"id": id})).await;
    let (error, sent) = result_text(&read);
    // What the origin received, stored as the document: its own host, and
    // nothing of the caller's credential.
    assert!(!error && sent.contains("host: 127.0.0.1"), "{sent}");
    assert!(
        !sent.to_ascii_lowercase().contains("authorization"),
        "{sent}"
    );
    assert!(!sent.contains(ALICE), "{sent}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_and_bad_tokens_get_401_pointing_at_the_metadata() {
    let (addr, _) = start(demo(temp_sqlite_url("http-401")), HttpOptions::default()).await;
    let metadata_url = format!("http://{addr}/.well-known/oauth-protected-resource");

    let none = send(addr, Method::POST, "/mcp", &[], b"{}".to_vec()).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        none.challenge(),
        format!("Bearer resource_metadata=\"{metadata_url}\"")
    );

    for bad in [
        "Bearer forged",
        "Bearer tok-expired-aa0011",
        "Basic YWxpY2U6cHc=",
    ] {
        let answer = send(
            addr,
            Method::POST,
            "/mcp",
            &[("authorization", bad)],
            b"{}".to_vec(),
        )
        .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{bad}");
        assert!(
            answer.challenge().contains(&metadata_url),
            "{bad}: {}",
            answer.challenge()
        );
    }

    // The metadata names this resource and the scopes its tools declare.
    let metadata = send(
        addr,
        Method::GET,
        "/.well-known/oauth-protected-resource",
        &[],
        vec![],
    )
    .await;
    assert_eq!(metadata.status, StatusCode::OK);
    assert_eq!(metadata.body["resource"], format!("http://{addr}/mcp"));
    assert_eq!(
        metadata.body["scopes_supported"],
        json!([
            "documents:create",
            "documents:delete",
            "documents:read",
            "documents:update"
        ])
    );
    assert_eq!(metadata.body["bearer_methods_supported"], json!(["header"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_sees_and_calls_only_what_its_scopes_allow() {
    let (addr, _) = start(demo(temp_sqlite_url("http-scopes")), HttpOptions::default()).await;
    let mut alice = Session::open(addr, ALICE).await;
    let mut carol = Session::open(addr, CAROL).await;

    let mut all = alice.tool_names().await;
    all.sort();
    assert_eq!(
        all,
        [
            "create_document",
            "delete_document",
            "import_url",
            "read_document",
            "render_document",
            "update_document"
        ]
    );
    let listed = alice.rpc("tools/list", json!({})).await;
    let manifest = secure_tool::manifest::Manifest::of::<DocServer>();
    assert_eq!(
        listed.body["result"]["_meta"][secure_tool::manifest::SERVER_KEY]["fingerprint"],
        manifest.fingerprint.as_str()
    );
    for tool in listed.body["result"]["tools"].as_array().unwrap() {
        assert!(
            tool["inputSchema"]["properties"].get("token").is_none(),
            "over HTTP the token is the header, not an argument: {tool}"
        );
        // The fingerprint is the declaration's, over HTTP as over stdio.
        let name = tool["name"].as_str().unwrap();
        assert_eq!(
            tool["_meta"][secure_tool::manifest::TOOL_KEY].as_str(),
            manifest.tool(name),
            "{tool}"
        );
    }
    let mut visible = carol.tool_names().await;
    visible.sort();
    assert_eq!(visible, ["read_document", "render_document"]);
    // Carol's list carries the fingerprint of the tools she sees, not one that
    // would change with the tools hidden from her.
    let listed = carol.rpc("tools/list", json!({})).await;
    let seen = &listed.body["result"]["_meta"][secure_tool::manifest::SERVER_KEY];
    let hers = secure_tool::manifest::server_fingerprint(
        ["read_document", "render_document"].map(|name| (name, manifest.tool(name).unwrap())),
    );
    assert_eq!(seen["fingerprint"], hers.as_str(), "{seen}");
    assert_ne!(hers, manifest.fingerprint);
    assert!(seen.get("tools").is_none(), "{seen}");

    // A hidden tool is uncallable: 403 naming the scope, before any body runs.
    let hidden = carol
        .call("delete_document", json!({"id": 1, "confirm": true}))
        .await;
    assert_eq!(hidden.status, StatusCode::FORBIDDEN);
    assert!(
        hidden
            .challenge()
            .starts_with("Bearer error=\"insufficient_scope\", scope=\"documents:delete\""),
        "{}",
        hidden.challenge()
    );
    assert_eq!(hidden.body["scope"], "documents:delete");

    let created = alice
        .call(
            "create_document",
            json!({"title": "t", "content": "shared"}),
        )
        .await;
    assert_eq!(
        result_text(&created),
        (false, "created document id=1".into())
    );
    let read = carol.call("read_document", json!({"id": 1})).await;
    let (error, text) = result_text(&read);
    assert!(!error && text.contains("shared"), "{text}");

    // The token travels in the header; as an argument it is an unknown field.
    let smuggled = carol
        .call("read_document", json!({"id": 1, "token": ALICE}))
        .await;
    let (error, text) = result_text(&smuggled);
    assert!(error && text.contains("unknown-field"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused_and_the_server_keeps_serving() {
    let options = HttpOptions {
        max_body_bytes: 4096,
        ..HttpOptions::default()
    };
    let (addr, _) = start(demo(temp_sqlite_url("http-413")), options).await;
    let mut alice = Session::open(addr, ALICE).await;
    let big = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
        "params": {"name": "create_document", "arguments": {"title": "t", "content": "x".repeat(8192)}}});
    let answer = alice.post(big).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    let malformed = alice
        .post_bytes(b"{\"jsonrpc\": \"2.0\", \"id\": ".to_vec())
        .await;
    assert!(malformed.status.is_client_error(), "{:?}", malformed.status);
    let created = alice
        .call("create_document", json!({"title": "t", "content": "c"}))
        .await;
    assert_eq!(
        result_text(&created),
        (false, "created document id=1".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subject_over_its_rate_is_refused_with_a_retry_hint() {
    let config = Config {
        // Opening the session (initialize, initialized) counts too: 2 + 3 calls.
        subject_rate: Some(Rate::new(5, Duration::from_secs(60))),
        ..demo(temp_sqlite_url("http-rate"))
    };
    let (addr, _) = start(config, HttpOptions::default()).await;
    let mut carol = Session::open(addr, CAROL).await;
    for _ in 0..3 {
        let (_, text) = result_text(&carol.call("read_document", json!({"id": 1})).await);
        assert!(!text.contains("rate limit"), "{text}");
    }
    let (error, text) = result_text(&carol.call("read_document", json!({"id": 1})).await);
    assert!(error, "{text}");
    assert!(
        text.contains("rejected by rate gate")
            && text.contains("rate limit of 5/min for this caller exceeded; retry after"),
        "{text}"
    );
    // Another subject has its own budget.
    let mut alice = Session::open(addr, ALICE).await;
    let (_, text) = result_text(&alice.call("read_document", json!({"id": 1})).await);
    assert!(!text.contains("rate limit"), "{text}");
}

/// Every request counts against its subject's rate before it costs anything:
/// a call refused for a missing scope too, and past the rate it gets `429`
/// without an audit row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_for_a_missing_scope_count_against_the_rate() {
    let url = temp_sqlite_url("http-scope-rate");
    let config = Config {
        subject_rate: Some(Rate::new(5, Duration::from_secs(60))),
        ..demo(url.clone())
    };
    let (addr, server) = start(config, HttpOptions::default()).await;
    // Opening the session spends 2 of carol's 5.
    let mut carol = Session::open(addr, CAROL).await;
    for _ in 0..3 {
        let answer = carol
            .call("delete_document", json!({"id": 1, "confirm": true}))
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{answer:?}");
    }
    for _ in 0..20 {
        let answer = carol
            .call("delete_document", json!({"id": 1, "confirm": true}))
            .await;
        assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS, "{answer:?}");
    }
    server.pipeline().settle_audit().await.unwrap();
    let store = secure_tool::Store::connect(&url).await.unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE gate = 'scope'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(rows, 3, "one row per refusal within the rate, none past it");
}

/// Guessing tool names costs the guesser's budget like calling real tools,
/// and the refusal is on the record under the guesser's subject.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_tool_names_count_against_the_callers_rate() {
    let url = temp_sqlite_url("http-unknown-rate");
    let config = Config {
        subject_rate: Some(Rate::new(5, Duration::from_secs(60))),
        ..demo(url.clone())
    };
    let (addr, server) = start(config, HttpOptions::default()).await;
    let mut carol = Session::open(addr, CAROL).await;
    for _ in 0..3 {
        let (error, text) = result_text(&carol.call("drop_database", json!({})).await);
        assert!(
            error && text.starts_with("rejected by unknown-tool gate"),
            "{text}"
        );
    }
    let (error, text) = result_text(&carol.call("drop_database", json!({})).await);
    assert!(error && text.starts_with("rejected by rate gate"), "{text}");
    // A list of tools is counted too.
    let answer = carol.rpc("tools/list", json!({})).await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS, "{answer:?}");
    server.pipeline().settle_audit().await.unwrap();
    let store = secure_tool::Store::connect(&url).await.unwrap();
    let guessed: Vec<(String, String)> =
        sqlx::query_as("SELECT subject, gate FROM audit_log WHERE tool = '' ORDER BY id")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let carol = USERS[2].name.to_owned();
    assert_eq!(
        guessed,
        [
            (carol.clone(), "unknown-tool".to_owned()),
            (carol.clone(), "unknown-tool".to_owned()),
            (carol.clone(), "unknown-tool".to_owned()),
            (carol, "rate".to_owned()),
        ]
    );
}

/// A session belongs to the subject that opened it: another valid token that
/// learned its id gets the 404 of an unknown session, and a subject holds a
/// bounded number of sessions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_bound_to_their_subject_and_bounded_per_subject() {
    let options = HttpOptions {
        sessions_per_subject: 2,
        ..HttpOptions::default()
    };
    let (addr, _) = start(demo(temp_sqlite_url("http-sessions")), options).await;
    let mut alice = Session::open(addr, ALICE).await;
    assert!(!alice.tool_names().await.is_empty());
    let mut stolen = alice.presented_by(CAROL);
    let answer = stolen.rpc("tools/list", json!({})).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{answer:?}");
    let answer = stolen.call("read_document", json!({"id": 1})).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{answer:?}");
    // Its owner keeps using it.
    assert!(!alice.tool_names().await.is_empty());

    let first = Session::open(addr, CAROL).await;
    let _second = Session::open(addr, CAROL).await;
    let mut third = Session::open_unchecked(addr, CAROL).await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS, "{third:?}");
    assert!(third.headers.contains_key("retry-after"));
    // Ending one makes room for another.
    assert!(first.end().await.status.is_success());
    third = Session::open_unchecked(addr, CAROL).await;
    assert_eq!(third.status, StatusCode::OK, "{third:?}");
    // A call of protocol 2026-07-28 opens no session: at the cap, it runs.
    let answer = call_2026(
        addr,
        CAROL,
        "read_document",
        json!({"id": 1}),
        json!({}),
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");

    // Opened all at once, no more than the cap get through.
    let bob = USERS[1].token;
    let opened = futures_join((0..10).map(|_| Session::open_unchecked(addr, bob))).await;
    let ok = opened.iter().filter(|a| a.status == StatusCode::OK).count();
    assert_eq!(
        ok,
        2,
        "{:?}",
        opened.iter().map(|a| a.status).collect::<Vec<_>>()
    );
}

/// A server told to stop finishes its audit trail: the failed
/// authentications still counted in an open window are audited, the outcomes
/// of answered calls are durable, and only then does it return.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_leaves_the_audit_trail_complete() {
    let url = temp_sqlite_url("http-stop");
    let (server, _) = build(demo(url.clone())).await.expect("doc-server builds");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let options = HttpOptions {
        // A window that would outlive the test: only stopping closes it.
        failure_window: Duration::from_secs(3600),
        ..HttpOptions::default()
    };
    let serving = tokio::spawn(server.serve_http_until(listener, options, async {
        let _ = stopped.await;
    }));
    for i in 0..5 {
        let bad = format!("Bearer forged-{i}");
        let answer = send(
            addr,
            Method::POST,
            "/mcp",
            &[("authorization", &bad)],
            b"{}".to_vec(),
        )
        .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let mut alice = Session::open(addr, ALICE).await;
    let (error, text) = result_text(
        &alice
            .call("create_document", json!({"title": "t", "content": "c"}))
            .await,
    );
    assert!(!error, "{text}");
    stop.send(()).unwrap();
    serving.await.unwrap().expect("the audit trail settles");
    let store = secure_tool::Store::connect(&url).await.unwrap();
    let (rows, failures): (i64, Option<i64>) =
        sqlx::query_as("SELECT COUNT(*), SUM(count) FROM audit_log WHERE outcome = 'auth_failed'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(
        (rows, failures),
        (2, Some(5)),
        "the first at once, the rest on stopping"
    );
    let created: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE tool = 'create_document' AND outcome = 'allowed'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(created, 1);
    // It no longer listens.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

/// A flood without a valid token costs no database write per request: an
/// address over its failures gets `429` with `Retry-After`, its failures are
/// audited as one record per window carrying their count, and a caller with a
/// valid token from the same address is served throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_authentications_are_throttled_and_audited_once_per_window() {
    let url = temp_sqlite_url("http-flood");
    let options = HttpOptions {
        auth_failures: Some(Rate::new(20, Duration::from_secs(60))),
        failure_window: Duration::from_millis(300),
        ..HttpOptions::default()
    };
    let (addr, _) = start(demo(url.clone()), options).await;
    const FLOOD: usize = 300;
    let started = std::time::Instant::now();
    let mut statuses = Vec::new();
    for batch in 0..FLOOD / 30 {
        let requests = (0..30).map(|i| {
            let bad = format!("Bearer forged-{batch}-{i}");
            async move {
                send(
                    addr,
                    Method::POST,
                    "/mcp",
                    &[("authorization", &bad)],
                    b"{}".to_vec(),
                )
                .await
            }
        });
        statuses.extend(futures_join(requests).await);
        // A valid token from the same address is never refused for it.
        let mut alice = Session::open(addr, ALICE).await;
        let (_, text) = result_text(&alice.call("read_document", json!({"id": 1})).await);
        assert!(
            !text.contains("auth gate") && !text.contains("rate gate"),
            "{text}"
        );
    }
    let unauthorized = statuses
        .iter()
        .filter(|a| a.status == StatusCode::UNAUTHORIZED)
        .count();
    let throttled: Vec<_> = statuses
        .iter()
        .filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!(unauthorized, 20);
    assert_eq!(throttled.len(), FLOOD - 20);
    // Still a challenge that names where to get a token.
    assert!(
        throttled[0].headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer resource_metadata=")
    );
    let retry: u64 = throttled[0].headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3).contains(&retry), "Retry-After: {retry}");

    // Every failure is accounted for: the first at once, then one row per
    // window that closed while the flood ran, and the last.
    let windows = (started.elapsed().as_millis() / 300) as i64;
    let store = secure_tool::Store::connect(&url).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (rows, failures): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), SUM(count) FROM audit_log WHERE outcome = 'auth_failed'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        if failures == Some(FLOOD as i64) {
            assert!(rows <= windows + 2, "{rows} rows for {FLOOD} failures");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{failures:?} of {FLOOD} audited"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs `futures` at once, each on a task, and collects their outputs in order.
async fn futures_join<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

/// Two replicas over one PostgreSQL: shared documents, shared policies (a
/// change made through one holds on the other within the poll interval), and
/// one shared audit row per call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_documents_policies_and_audit() {
    let Some(url) = fresh_postgres("replicas").await else {
        eprintln!("DATABASE_URL does not point at PostgreSQL; skipping");
        return;
    };
    let poll = Duration::from_millis(100);
    let replica = |demo_mode: bool| Config {
        demo: demo_mode,
        policy_poll: poll,
        ..Config::new(url.clone())
    };
    // The first replica seeds the demo cast; the second joins, as a real one
    // would, with the tokens of the demo (the JWT settings are per deployment).
    let (a, server_a) = start(replica(true), HttpOptions::default()).await;
    let (b, server_b) = start(replica(true), HttpOptions::default()).await;
    // B's seeding rewrote the policies while A was polling; settle A on the result.
    server_a
        .pipeline()
        .authorizer()
        .unwrap()
        .reload()
        .await
        .unwrap();
    let mut calls = 0;

    let mut alice_a = Session::open(a, ALICE).await;
    let mut carol_b = Session::open(b, CAROL).await;
    for i in 1..=5 {
        let created = alice_a
            .call(
                "create_document",
                json!({"title": format!("t{i}"), "content": format!("c{i}")}),
            )
            .await;
        calls += 1;
        assert_eq!(
            result_text(&created),
            (false, format!("created document id={i}"))
        );
        let read = carol_b.call("read_document", json!({"id": i})).await;
        calls += 1;
        let (error, text) = result_text(&read);
        assert!(!error && text.contains(&format!("c{i}")), "{text}");
    }

    // Revoke viewers' read through replica A; replica B must deny carol.
    server_a
        .pipeline()
        .authorizer()
        .expect("doc-server has an authorizer")
        .revoke("viewer", "documents", "read")
        .await
        .expect("the policy store accepts the change");
    let mut denied = false;
    for _ in 0..100 {
        let read = carol_b.call("read_document", json!({"id": 1})).await;
        calls += 1;
        let (error, text) = result_text(&read);
        if error && text.contains("rejected by role gate") {
            denied = true;
            break;
        }
        tokio::time::sleep(poll).await;
    }
    assert!(denied, "replica B never saw the revocation");

    // A refusal at the HTTP front is audited too.
    let unauthenticated = send(b, Method::POST, "/mcp", &[], b"{}".to_vec()).await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);
    calls += 1;

    for server in [&server_a, &server_b] {
        server.pipeline().settle_audit().await.unwrap();
    }
    let store = secure_tool::Store::connect(&url).await.unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(rows, calls, "one audit row per call, across both replicas");
}

/// A server of public tools over HTTP still authenticates every request, and
/// the audit record names the caller.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_tools_over_http_need_a_bearer_and_record_its_subject() {
    let tokens = secure_tool::StaticTokens::new("basic-server").with(
        "tok-erin",
        secure_tool::StaticToken {
            subject: "erin".into(),
            audience: "basic-server".into(),
            expires_at: u64::MAX,
            scopes: vec![],
        },
    );
    let records = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let server = Server::new(basic_server::BasicServer)
        .with_verifier(tokens)
        .with_audit_sink(Subjects(records.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server.serve_http(listener, HttpOptions::default()));

    let refused = send(addr, Method::POST, "/mcp", &[], b"{}".to_vec()).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let mut erin = Session::open(addr, "tok-erin").await;
    let sum = erin
        .call("compute", json!({"op": "add", "a": 2, "b": 3}))
        .await;
    assert_eq!(
        sum.body["result"]["structuredContent"]["result"],
        json!(5.0)
    );
    assert_eq!(
        *records.lock().unwrap(),
        ["<unauthenticated>".to_owned(), "erin".to_owned()]
    );
}

/// Keeps the subject of each audit record.
struct Subjects(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl secure_tool::audit::AuditSink for Subjects {
    fn write<'a>(
        &'a self,
        record: &'a secure_tool::audit::AuditRecord,
    ) -> secure_tool::audit::BoxFuture<'a, Result<(), secure_tool::audit::AuditError>> {
        self.0.lock().unwrap().push(record.subject.clone());
        Box::pin(async { Ok(()) })
    }
}

/// The flood the hardening is for: 20,000 requests without a valid token, 256
/// at a time on kept-alive connections, while an authenticated client calls a
/// tool. Every authenticated call succeeds, and the audit table grows by a
/// handful of rows. The latencies are printed (`--nocapture`), not asserted:
/// the README reports them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unauthenticated_flood_neither_stops_callers_nor_fills_the_audit() {
    const FLOOD: usize = 20_000;
    const CONCURRENCY: usize = 256;
    const CALLS: usize = 200;
    let url = temp_sqlite_url("http-flood-load");
    let config = Config {
        subject_rate: None,
        ..demo(url.clone())
    };
    let (addr, server) = start(config, HttpOptions::default()).await;
    let mut alice = Session::open(addr, ALICE).await;
    let created = alice
        .call("create_document", json!({"title": "t", "content": "c"}))
        .await;
    assert!(!result_text(&created).0, "{created:?}");
    let id = result_text(&created).1;
    let id: i64 = id
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);

    let store = secure_tool::Store::connect(&url).await.unwrap();
    let rows = || {
        let pool = store.pool().clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log")
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    async fn timed(alice: &mut Session, id: i64, calls: usize) -> Vec<Duration> {
        let mut took = Vec::with_capacity(calls);
        for _ in 0..calls {
            let started = std::time::Instant::now();
            let answer = alice.call("read_document", json!({"id": id})).await;
            took.push(started.elapsed());
            let (error, text) = result_text(&answer);
            assert!(!error, "an authenticated call failed: {text}");
        }
        took.sort();
        took
    }
    let p99 = |took: &[Duration]| took[took.len() * 99 / 100 - 1];

    let quiet = timed(&mut alice, id, CALLS).await;
    server.pipeline().settle_audit().await.unwrap();
    let before = rows().await;

    let started = std::time::Instant::now();
    let flood: Vec<_> = (0..CONCURRENCY)
        .map(|i| tokio::spawn(flood_from(addr, (i..FLOOD).step_by(CONCURRENCY))))
        .collect();
    // Calls all the while the flood runs.
    let mut during = Vec::new();
    while !flood.iter().all(tokio::task::JoinHandle::is_finished) {
        during.extend(timed(&mut alice, id, 10).await);
    }
    during.sort();
    let flood_time = started.elapsed();
    let mut statuses = Vec::new();
    for task in flood {
        statuses.extend(task.await.unwrap());
    }
    server.pipeline().settle_audit().await.unwrap();
    let after = rows().await;

    assert_eq!(statuses.len(), FLOOD);
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::TOO_MANY_REQUESTS)
    );
    // The first failure of the address, and no more than one record per
    // window that closed while the flood ran.
    let grew = after - before - during.len() as i64;
    assert!(
        (1..=1 + flood_time.as_secs() as i64 / 10 + 1).contains(&grew),
        "the audit grew by {grew} rows for {FLOOD} failures"
    );
    println!(
        "flood: {FLOOD} unauthenticated requests at concurrency {CONCURRENCY} in {:.1} s \
         ({} refused 429); audit rows for them: {grew}; authenticated read_document \
         p50/p99 {:?}/{:?} quiet, {:?}/{:?} over {} calls during the flood (p99 {:.2}x)",
        flood_time.as_secs_f64(),
        statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count(),
        quiet[CALLS / 2],
        p99(&quiet),
        during[during.len() / 2],
        p99(&during),
        during.len(),
        p99(&during).as_secs_f64() / p99(&quiet).as_secs_f64(),
    );
}

/// Sends a request with a forged token for each of `requests` on a kept-alive
/// connection, opening a new one whenever the server closed it.
async fn flood_from(addr: SocketAddr, requests: impl Iterator<Item = usize>) -> Vec<StatusCode> {
    type Sender = hyper::client::conn::http1::SendRequest<http_body_util::Full<hyper::body::Bytes>>;
    async fn connect(addr: SocketAddr) -> Sender {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(conn);
        sender
    }
    let mut sender = connect(addr).await;
    let mut statuses = Vec::new();
    for n in requests {
        let request = || {
            hyper::Request::post("/mcp")
                .header("host", addr.to_string())
                .header("authorization", format!("Bearer forged-{n}"))
                .header("content-type", "application/json")
                .body(http_body_util::Full::new(hyper::body::Bytes::from_static(
                    b"{}",
                )))
                .unwrap()
        };
        if sender.ready().await.is_err() {
            sender = connect(addr).await;
        }
        let response = match sender.send_request(request()).await {
            Ok(response) => response,
            // Closed between the check and the send: once more, anew.
            Err(_) => {
                sender = connect(addr).await;
                sender.send_request(request()).await.unwrap()
            }
        };
        statuses.push(response.status());
        let _ = http_body_util::BodyExt::collect(response.into_body()).await;
    }
    statuses
}

/// `delete_document` is `confirm = "human"`: a person approves on the page,
/// then the client's retry runs it once. An editor's approval of the
/// deletion of another's document does not make it his: the owner check
/// still refuses it, and the document stays.
#[tokio::test]
async fn a_deletion_runs_once_a_person_approves_it_and_still_only_on_what_the_caller_owns() {
    let (addr, _) = start(
        demo(temp_sqlite_url("http-approval")),
        HttpOptions::default(),
    )
    .await;
    let mut alice = Session::open(addr, ALICE).await;
    let created = alice
        .call("create_document", json!({"title": "t", "content": "c"}))
        .await;
    let id: i64 = result_text(&created)
        .1
        .rsplit('=')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let url_mode = json!({"url": {}});
    let accepted = json!({"confirm": {"action": "accept"}});
    let args = json!({"id": id, "confirm": true});

    let asked = call_2026(
        addr,
        BOB,
        "delete_document",
        args.clone(),
        url_mode.clone(),
        None,
    )
    .await;
    let (url, state) = page_question(&asked);
    let mut bob = Browser::open(addr, &url);
    assert_eq!(
        bob.sign_in(USERS[1].approver).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(bob.decide("approve").await.status, StatusCode::OK);
    let retry = Some((state.as_str(), accepted.clone()));
    let refused = call_2026(
        addr,
        BOB,
        "delete_document",
        args.clone(),
        url_mode.clone(),
        retry,
    )
    .await;
    let (error, text) = result_text(&refused);
    assert!(
        error && text.starts_with("rejected by owner gate"),
        "{text}"
    );

    let asked = call_2026(
        addr,
        ALICE,
        "delete_document",
        args.clone(),
        url_mode.clone(),
        None,
    )
    .await;
    let (url, state) = page_question(&asked);
    let mut person = Browser::open(addr, &url);
    person.sign_in(USERS[0].approver).await;
    person.decide("approve").await;
    let retry = Some((state.as_str(), accepted));
    let deleted = call_2026(addr, ALICE, "delete_document", args, url_mode, retry).await;
    assert_eq!(
        result_text(&deleted),
        (false, format!("deleted 1 row(s) for document id={id}"))
    );
}

/// A browser page of another origin cannot reach `/mcp`, whatever token it
/// carries; the server's own origin and clients that send none can. The
/// `Mcp-Method` and `Mcp-Name` headers of protocol 2026-07-28 must say what
/// the body says.
#[tokio::test]
async fn foreign_origins_and_headers_that_contradict_the_body_are_refused() {
    let (addr, _) = start(demo(temp_sqlite_url("http-origin")), HttpOptions::default()).await;
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
    });
    let list =
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": meta}})
            .to_string();
    let bearer = format!("Bearer {ALICE}");
    let own = format!("http://{addr}");
    for (origin, status) in [
        (Some("https://attacker.example"), StatusCode::FORBIDDEN),
        (Some("http://localhost:1"), StatusCode::FORBIDDEN),
        (Some("null"), StatusCode::FORBIDDEN),
        (Some(own.as_str()), StatusCode::OK),
        (None, StatusCode::OK),
    ] {
        let mut headers = vec![
            ("authorization", bearer.as_str()),
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/list"),
        ];
        if let Some(origin) = origin {
            headers.push(("origin", origin));
        }
        let answer = send(
            addr,
            Method::POST,
            "/mcp",
            &headers,
            list.clone().into_bytes(),
        )
        .await;
        assert_eq!(answer.status, status, "Origin {origin:?}: {answer:?}");
    }

    let created = call_2026(
        addr,
        ALICE,
        "create_document",
        json!({"title": "t", "content": "c"}),
        json!({}),
        None,
    )
    .await;
    assert!(!result_text(&created).0, "{created:?}");
    let body = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
        "_meta": meta, "name": "read_document", "arguments": {"id": 1},
    }})
    .to_string();
    for (method, name) in [
        ("tools/call", "delete_document"),
        ("tools/list", "read_document"),
    ] {
        let headers = [
            ("authorization", bearer.as_str()),
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", method),
            ("mcp-name", name),
        ];
        let answer = send(
            addr,
            Method::POST,
            "/mcp",
            &headers,
            body.clone().into_bytes(),
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{method} {name}: {answer:?}"
        );
        assert_eq!(answer.body["error"]["code"], -32020, "{answer:?}");
    }
}
