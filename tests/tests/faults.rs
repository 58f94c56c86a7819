//! Faults: the database goes away mid-run and comes back; clients send broken
//! frames or vanish mid-call. The server fails closed while it must and keeps
//! serving everyone else.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use doc_server::demo::{Config, USERS, build};
use hyper::{Method, StatusCode};
use secure_tool::Server;
use secure_tool::http::HttpOptions;
use secure_tool_test_support::fresh_postgres;
use secure_tool_tests::http::{Session, result_text, send};
use secure_tool_tests::patient::Patient;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// A loopback TCP proxy in front of PostgreSQL. While cut it drops every open
/// connection and closes new ones at once: to the server, the database is down.
struct Proxy {
    addr: std::net::SocketAddr,
    up: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (accept_up, accept_links) = (up.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accept_up.load(Ordering::SeqCst) {
                    continue; // dropped: connection closed
                }
                let upstream = upstream.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                accept_links.lock().unwrap().push(link.abort_handle());
            }
        });
        Self { addr, up, links }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

fn call_args(value: Value) -> secure_tool::server::Arguments {
    value.as_object().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_outage_fails_closed_and_service_resumes_without_restart() {
    let Some(url) = fresh_postgres("faults").await else {
        eprintln!("DATABASE_URL does not point at PostgreSQL; skipping");
        return;
    };
    // postgres://user@host:port/db → the same through the proxy.
    let (head, rest) = url.split_once('@').unwrap();
    let (hostport, db) = rest.split_once('/').unwrap();
    let proxy = Proxy::start(hostport.to_owned()).await;
    let proxied = format!("{head}@{}/{db}", proxy.addr);
    let poll = Duration::from_millis(100);
    let config = Config {
        demo: true,
        policy_poll: poll,
        ..Config::new(proxied)
    };
    let (server, _) = build(config)
        .await
        .expect("doc-server builds through the proxy");
    let alice = USERS[0].token;
    let create =
        |n: usize| call_args(json!({"token": alice, "title": format!("t{n}"), "content": "c"}));
    let read = || call_args(json!({"token": alice, "id": 1}));

    let mut allowed = 0;
    for n in 0..3 {
        let trace = server.call("create_document", create(n)).await;
        assert_eq!(trace.result.is_error, Some(false), "{:?}", trace.result);
        allowed += 1;
    }
    // Answered calls' outcomes join the next commit; make them durable
    // before the cut, as a server does before it shuts down.
    server.pipeline().settle_audit().await.unwrap();

    proxy.cut();
    // Every call while the database is away is refused, and says why (the
    // audit record cannot be written, so no result leaves; or the shared
    // quota cannot be checked). Within a poll the authorizer notices too, and
    // from then on no body runs at all.
    let authz = server.pipeline().authorizer().unwrap().clone();
    let mut noticed = false;
    for n in 0..10 {
        let stale = !authz.is_current();
        let trace = server.call("create_document", create(100 + n)).await;
        let text = format!("{:?}", trace.result.content);
        assert_eq!(
            trace.result.is_error,
            Some(true),
            "allowed while down: {text}"
        );
        // Refused at the rate gate once the replica's leased batch of its
        // shared quota is spent (the quota cannot be checked), before any
        // body; or, before that, at the audit gate.
        let unchecked = text.contains(
            "rejected by rate gate: rate limits cannot be checked: the shared quota store does not answer",
        );
        assert!(
            unchecked
                || text.contains("rejected by audit gate: audit log unavailable; result withheld"),
            "{text}"
        );
        if unchecked {
            assert!(!trace.executed, "a body ran with its quota unchecked");
        }
        if stale {
            noticed = true;
            assert!(!trace.executed, "a body ran without a policy decision");
        }
        let trace = server.call("read_document", read()).await;
        assert_eq!(trace.result.is_error, Some(true), "read while down");
        tokio::time::sleep(poll).await;
    }
    assert!(noticed, "the authorizer never noticed the outage");

    proxy.restore();
    let mut resumed = false;
    for _ in 0..200 {
        let trace = server.call("read_document", read()).await;
        if trace.result.is_error == Some(false) {
            resumed = true;
            allowed += 1;
            break;
        }
        tokio::time::sleep(poll).await;
    }
    assert!(
        resumed,
        "service did not resume after the database came back"
    );
    let trace = server.call("create_document", create(3)).await;
    assert_eq!(trace.result.is_error, Some(false), "{:?}", trace.result);
    allowed += 1;
    server.pipeline().settle_audit().await.unwrap();

    // Nothing refused was half-written: exactly the allowed creates exist,
    // and every allowed call has its audit row.
    let direct = secure_tool::Store::connect(&url).await.unwrap();
    let count = |sql: &'static str| {
        let pool = direct.pool().clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(count("SELECT COUNT(*) FROM documents").await, 4);
    assert_eq!(
        count("SELECT COUNT(*) FROM audit_log WHERE outcome = 'allowed'").await,
        allowed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_frames_and_vanishing_clients_leave_the_server_serving_others() {
    let tokens = secure_tool::StaticTokens::new("patient").with(
        "tok",
        secure_tool::StaticToken {
            subject: "erin".into(),
            audience: "patient".into(),
            expires_at: u64::MAX,
            scopes: vec![],
        },
    );
    let options = HttpOptions {
        max_body_bytes: 64 * 1024,
        read_timeout: Duration::from_millis(300),
        ..HttpOptions::default()
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        Server::new(Patient)
            .with_verifier(tokens)
            .serve_http(listener, options),
    );

    // A client starts an hour-long call and disconnects mid-call.
    let mut leaving = Session::open(addr, "tok").await;
    let abandoned = tokio::spawn(async move { leaving.call("slow", json!({"secs": 3600})).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    abandoned.abort();

    let mut other = Session::open(addr, "tok").await;
    let bearer = [("authorization", "Bearer tok")];
    for frame in [
        &b"{\"jsonrpc\": \"2.0\", \"id\": "[..],
        b"\xff\xfe not utf-8",
        b"[]",
        b"{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": 7}",
    ] {
        let answer = send(addr, Method::POST, "/mcp", &bearer, frame.to_vec()).await;
        assert!(answer.status.is_client_error(), "{frame:?}: {answer:?}");
    }
    let oversized = vec![b' '; 1024 * 1024];
    let answer = send(addr, Method::POST, "/mcp", &bearer, oversized).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);

    // A client that announces a body and never finishes it is cut off with 408.
    let mut stalled = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer tok\r\n\
         content-type: application/json\r\ncontent-length: 1000\r\n\r\n{{\"jsonrpc\""
    );
    stalled.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stalled.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");

    let echoed = other.call("echo", json!({"text": "still here"})).await;
    assert_eq!(result_text(&echoed), (false, "still here".to_owned()));
}
