//! Telemetry of doc-server over HTTP, read back as an operator's tools would
//! read it: the spans are decoded from the OTLP/HTTP JSON a collector on
//! loopback receives, and the metrics are parsed from a `/metrics` scrape.

use std::collections::HashMap;
use std::net::SocketAddr;

use doc_server::demo::{Config, USERS, build};
use hyper::{Method, StatusCode};
use secure_tool::http::{HttpOptions, METRICS_PATH, MetricsToken};
use secure_tool::telemetry::{DURATION_BUCKETS, Telemetry};
use secure_tool_test_support::temp_sqlite_url;
use secure_tool_tests::collector::Collector;
use secure_tool_tests::http::{Session, result_text, send};
use serde_json::{Value, json};

const CAROL: &str = USERS[2].token;
const SCRAPE: &str = "scrape-token-0123456789";

/// doc-server with telemetry sending spans to `collector`, over HTTP.
async fn serve(collector: &Collector, options: HttpOptions) -> (SocketAddr, Telemetry) {
    let config = Config {
        demo: true,
        ..Config::new(temp_sqlite_url("telemetry"))
    };
    let (server, docs) = build(config).await.unwrap();
    let id = docs.create("notes", "a page", "alice").await.unwrap();
    assert_eq!(id, 1);
    let telemetry = Telemetry::with_otlp("doc-server", &collector.url()).unwrap();
    let server = server.with_telemetry(telemetry.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server.serve_http(listener, options));
    (addr, telemetry)
}

fn attribute<'a>(span: &'a Value, key: &str) -> Option<&'a str> {
    span["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)?["value"]["stringValue"]
        .as_str()
}

fn nanos(span: &Value, field: &str) -> u128 {
    span[field].as_str().unwrap().parse().unwrap()
}

/// A call's spans: its own, then its stages' in order.
fn trace_of(spans: &[(Value, Value)], trace_id: &str) -> (Value, Vec<Value>) {
    let mut spans: Vec<Value> = spans
        .iter()
        .filter(|(_, s)| s["traceId"] == trace_id)
        .map(|(_, s)| s.clone())
        .collect();
    let root = spans
        .iter()
        .position(|s| s["kind"] == 2)
        .expect("the call's span");
    let root = spans.remove(root);
    spans.sort_by_key(|s| nanos(s, "startTimeUnixNano"));
    for stage in &spans {
        assert_eq!(stage["parentSpanId"], root["spanId"]);
        assert_eq!(stage["kind"], 1);
        assert!(nanos(stage, "startTimeUnixNano") >= nanos(&root, "startTimeUnixNano"));
        assert!(nanos(stage, "endTimeUnixNano") <= nanos(&root, "endTimeUnixNano"));
    }
    (root, spans)
}

fn names(stages: &[Value]) -> Vec<&str> {
    stages.iter().map(|s| s["name"].as_str().unwrap()).collect()
}

/// `read_document` of `id`, with `traceparent` in the request's `_meta`.
async fn read_traced(
    session: &mut Session,
    id: u32,
    traceparent: &str,
) -> secure_tool_tests::http::Answer {
    let params = json!({
        "name": "read_document",
        "arguments": {"id": id},
        "_meta": {"traceparent": traceparent},
    });
    session.rpc("tools/call", params).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_is_a_trace_of_its_stages_joined_to_the_clients() {
    let collector = Collector::start().await;
    let (addr, telemetry) = serve(&collector, HttpOptions::default()).await;
    let mut carol = Session::open(addr, CAROL).await;
    let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let allowed = read_traced(&mut carol, 1, parent).await;
    assert!(!result_text(&allowed).0, "{:?}", allowed.body);
    let refused_parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let refused = read_traced(&mut carol, 0, refused_parent).await;
    assert!(result_text(&refused).0);
    // A client that does not record its trace: no spans for this call.
    let unsampled = "00-11111111111111111111111111111111-2222222222222222-00";
    read_traced(&mut carol, 1, unsampled).await;
    // A refusal is traced whatever the client says it samples.
    let unsampled_refused = "00-33333333333333333333333333333333-4444444444444444-00";
    read_traced(&mut carol, 0, unsampled_refused).await;
    // No trace context, or a malformed one: a trace of the call's own.
    carol.call("read_document", json!({"id": 1})).await;
    read_traced(&mut carol, 1, "00-XYZ").await;
    telemetry.flush().await;

    let spans = collector.spans();
    for (resource, _) in &spans {
        assert_eq!(resource["attributes"][0]["key"], "service.name");
        assert_eq!(
            resource["attributes"][0]["value"]["stringValue"],
            "doc-server"
        );
    }
    // The allowed call: a server span under the client's, then every stage,
    // each starting where the one before ended.
    let (root, stages) = trace_of(&spans, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(root["parentSpanId"], "00f067aa0ba902b7");
    assert_eq!(root["name"], "tools/call read_document");
    assert_eq!(attribute(&root, "mcp.method.name"), Some("tools/call"));
    assert_eq!(attribute(&root, "gen_ai.tool.name"), Some("read_document"));
    assert_eq!(attribute(&root, "secure_tool.outcome"), Some("allowed"));
    assert_eq!(root["status"].get("code"), None);
    assert_eq!(
        names(&stages),
        [
            "authenticate",
            "rate",
            "authorize",
            "inspect_input",
            "execute",
            "inspect_output",
            "audit"
        ]
    );
    assert_eq!(stages[0]["startTimeUnixNano"], root["startTimeUnixNano"]);
    for pair in stages.windows(2) {
        assert_eq!(pair[0]["endTimeUnixNano"], pair[1]["startTimeUnixNano"]);
    }
    assert_eq!(stages[6]["endTimeUnixNano"], root["endTimeUnixNano"]);
    // The refused call stops at the stage that refused, marked as an
    // error naming its gate, and is audited.
    let (root, stages) = trace_of(&spans, "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(
        names(&stages),
        [
            "authenticate",
            "rate",
            "authorize",
            "inspect_input",
            "audit"
        ]
    );
    let gate = attribute(&root, "secure_tool.gate").expect("the refusing gate");
    assert_eq!(root["status"]["code"], 2);
    assert_eq!(stages[3]["status"]["code"], 2);
    assert_eq!(
        stages[3]["status"]["message"],
        format!("refused at the {gate} gate")
    );
    assert_eq!(attribute(&stages[3], "secure_tool.gate"), Some(gate));
    assert_eq!(stages[4]["status"].get("code"), None);
    // Not sampled: nothing. The other two: traces of their own, with ids
    // of the right form and no parent.
    assert!(
        spans
            .iter()
            .all(|(_, s)| s["traceId"] != "11111111111111111111111111111111")
    );
    let own: Vec<&Value> = spans
        .iter()
        .map(|(_, s)| s)
        .filter(|s| s["kind"] == 2 && s["parentSpanId"] == "")
        .collect();
    assert_eq!(own.len(), 2, "{own:?}");
    for span in own {
        let id = span["traceId"].as_str().unwrap();
        assert_eq!(id.len(), 32);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_ne!(id, "0".repeat(32));
    }
    let (_, stages) = trace_of(&spans, "33333333333333333333333333333333");
    assert_eq!(stages.len(), 5);
    assert_eq!(spans.len(), 8 + 6 + 6 + 2 * 8);
    // Neither the caller nor the arguments leave in a span.
    let sent = serde_json::to_string(&collector.bodies()).unwrap();
    assert!(!sent.contains("carol") && !sent.contains(CAROL), "{sent}");
    assert_eq!(telemetry.span_counts(), (36, 0));
}

/// A scrape parsed: each series (name and labels, as written) to its value.
fn parse_metrics(text: &str) -> HashMap<String, f64> {
    let mut series = HashMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (name, value) = line.rsplit_once(' ').expect("a series and its value");
        let value: f64 = value.parse().expect("a number");
        assert!(
            series.insert(name.to_owned(), value).is_none(),
            "twice: {name}"
        );
    }
    series
}

async fn scrape(addr: SocketAddr, headers: &[(&str, &str)]) -> (StatusCode, String) {
    let answer = send(addr, Method::GET, METRICS_PATH, headers, Vec::new()).await;
    (
        answer.status,
        String::from_utf8_lossy(&answer.raw).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_to_the_scraper_with_the_token_and_count_every_call() {
    let collector = Collector::start().await;
    let options = HttpOptions {
        metrics_token: Some(MetricsToken(SCRAPE.to_owned())),
        ..HttpOptions::default()
    };
    let (addr, _) = serve(&collector, options).await;
    let mut carol = Session::open(addr, CAROL).await;
    for _ in 0..3 {
        carol.call("read_document", json!({"id": 1})).await;
    }
    carol.call("read_document", json!({"id": 0})).await;
    carol.call("read_document", json!({"id": "1"})).await;
    // carol may not delete: refused by her role.
    carol
        .call("delete_document", json!({"id": 1, "confirm": true}))
        .await;

    let bearer = format!("Bearer {SCRAPE}");
    let (status, text) = scrape(addr, &[("authorization", &bearer)]).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let metrics = parse_metrics(&text);
    let series = |name: &str, labels: &str| {
        metrics
            .get(&format!("{name}{{server=\"doc-server\",{labels}}}"))
            .copied()
            .unwrap_or_else(|| panic!("no {name} {labels} in\n{text}"))
    };
    assert_eq!(
        series(
            "secure_tool_calls_total",
            "tool=\"read_document\",outcome=\"allowed\""
        ),
        3.0
    );
    assert_eq!(
        series(
            "secure_tool_calls_total",
            "tool=\"read_document\",outcome=\"invalid\""
        ),
        2.0
    );
    assert_eq!(
        series(
            "secure_tool_calls_total",
            "tool=\"delete_document\",outcome=\"not_authorized\""
        ),
        1.0
    );
    let refusals: f64 = metrics
        .iter()
        .filter(|(k, _)| {
            k.starts_with(
                "secure_tool_refusals_total{server=\"doc-server\",tool=\"read_document\",",
            )
        })
        .map(|(_, v)| v)
        .sum();
    assert_eq!(refusals, 2.0, "{text}");
    // The histogram: cumulative buckets up to +Inf, which is the count.
    let labels = "tool=\"read_document\"";
    let mut last = 0.0;
    for le in DURATION_BUCKETS
        .map(|b| b.to_string())
        .into_iter()
        .chain(["+Inf".to_owned()])
    {
        let n = series(
            "secure_tool_call_duration_seconds_bucket",
            &format!("{labels},le=\"{le}\""),
        );
        assert!(n >= last, "{le}: {n} < {last}");
        last = n;
    }
    assert_eq!(last, 5.0);
    assert_eq!(
        series("secure_tool_call_duration_seconds_count", labels),
        5.0
    );
    assert!(series("secure_tool_call_duration_seconds_sum", labels) > 0.0);
    assert_eq!(
        metrics["secure_tool_spans_dropped_total{server=\"doc-server\"}"],
        0.0
    );
    // No subject in a label.
    assert!(!text.contains("carol"), "{text}");

    // Without the token, with another, or with a caller's: refused, and
    // counted against the address like a failed authentication.
    let caller = format!("Bearer {CAROL}");
    for headers in [
        vec![],
        vec![("authorization", "Bearer scrape-token-0123456788")],
        vec![("authorization", caller.as_str())],
    ] {
        let (status, text) = scrape(addr, &headers).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{text}");
        assert!(!text.contains("secure_tool_calls_total"));
    }
    let post = send(
        addr,
        Method::POST,
        METRICS_PATH,
        &[("authorization", &bearer)],
        Vec::new(),
    )
    .await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_off_unless_asked_and_never_served_with_a_weak_token() {
    let collector = Collector::start().await;
    let (addr, _) = serve(&collector, HttpOptions::default()).await;
    let bearer = format!("Bearer {SCRAPE}");
    let (status, _) = scrape(addr, &[("authorization", &bearer)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let config = Config {
        demo: true,
        ..Config::new(temp_sqlite_url("telemetry-weak"))
    };
    let (server, _) = build(config).await.unwrap();
    let server = server.with_telemetry(Telemetry::new("doc-server"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let weak = HttpOptions {
        metrics_token: Some(MetricsToken("short".to_owned())),
        ..HttpOptions::default()
    };
    let refused = server.clone().serve_http(listener, weak).await.unwrap_err();
    assert!(refused.to_string().contains("16 characters"), "{refused}");
    // A server without telemetry has no metrics to serve.
    let (bare, _) = build(Config {
        demo: true,
        ..Config::new(temp_sqlite_url("telemetry-none"))
    })
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let options = HttpOptions {
        metrics_token: Some(MetricsToken(SCRAPE.to_owned())),
        ..HttpOptions::default()
    };
    let refused = bare.serve_http(listener, options).await.unwrap_err();
    assert!(refused.to_string().contains("telemetry"), "{refused}");
}

#[tokio::test]
async fn traces_go_only_to_a_plain_http_collector() {
    for bad in [
        "https://collector:4318/v1/traces",
        "collector:4318",
        "http://user@collector/",
    ] {
        let error = Telemetry::with_otlp("doc-server", bad).unwrap_err();
        assert!(
            error.to_string().contains("OTLP traces URL"),
            "{bad}: {error}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_the_metrics_token_is_throttled_like_a_failed_authentication() {
    let collector = Collector::start().await;
    let options = HttpOptions {
        metrics_token: Some(MetricsToken(SCRAPE.to_owned())),
        auth_failures: Some(secure_tool::Rate::new(
            2,
            std::time::Duration::from_secs(3600),
        )),
        ..HttpOptions::default()
    };
    let (addr, _) = serve(&collector, options).await;
    let guesses = [
        "Bearer guess-0000000000000001",
        "Bearer guess-0000000000000002",
    ];
    for guess in guesses {
        let (status, _) = scrape(addr, &[("authorization", guess)]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _) = scrape(addr, &[("authorization", "Bearer guess-0000000000000003")]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_that_hangs_costs_calls_nothing_and_shutdown_does_not_wait_on_it() {
    let hung = Collector::hung().await;
    let (addr, telemetry) = serve(&hung, HttpOptions::default()).await;
    let mut carol = Session::open(addr, CAROL).await;
    for _ in 0..20 {
        let answer = carol.call("read_document", json!({"id": 1})).await;
        assert!(!result_text(&answer).0, "{:?}", answer.body);
    }
    // The flush gives up after its bound; what it could not send is
    // counted as dropped once the post itself gives up.
    telemetry.flush().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while telemetry.span_counts().1 < 20 * 8 {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            telemetry.span_counts()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(telemetry.span_counts(), (0, 160));
}
