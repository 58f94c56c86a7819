//! Load over streamable HTTP: `--concurrency` keep-alive HTTP/1.1
//! connections, each with one `tools/call` in flight (protocol 2026-07-28,
//! no session), until `--calls` are answered. Prints one JSON line: calls/s,
//! p50 and p99 in µs, and how many answers were not a successful result.
//!
//! `http-load --url http://127.0.0.1:PORT/mcp --token T --tool NAME --args JSON
//!            [--concurrency C] [--calls N] [--warmup W]`

use std::time::{Duration, Instant};

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;

struct Options {
    url: hyper::Uri,
    token: String,
    tool: String,
    args: String,
    concurrency: usize,
    calls: usize,
    warmup: usize,
}

fn parse() -> Result<Options, String> {
    let mut o = Options {
        url: hyper::Uri::from_static("http://127.0.0.1/mcp"),
        token: String::new(),
        tool: String::new(),
        args: "{}".into(),
        concurrency: 1,
        calls: 10_000,
        warmup: 200,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or(format!("{arg} needs a value"))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("{arg}: not a number"))
        };
        match arg.as_str() {
            "--url" => o.url = value.parse().map_err(|_| "--url: not a URL")?,
            "--token" => o.token = value,
            "--tool" => o.tool = value,
            "--args" => o.args = value,
            "--concurrency" => o.concurrency = number()?.max(1),
            "--calls" => o.calls = number()?.max(1),
            "--warmup" => o.warmup = number()?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(o)
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(url: &hyper::Uri) -> Sender {
    let authority = url.authority().expect("the URL names a host").as_str();
    let stream = tokio::net::TcpStream::connect(authority)
        .await
        .expect("the server listens");
    stream.set_nodelay(true).unwrap();
    let (sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("HTTP/1.1 handshake");
    tokio::spawn(conn);
    sender
}

/// One call; whether it was answered with a successful result.
async fn call(sender: &mut Sender, o: &Options, body: &Bytes) -> bool {
    sender.ready().await.expect("the connection stays open");
    let request = hyper::Request::post(o.url.path())
        .header("host", o.url.authority().unwrap().as_str())
        .header("authorization", format!("Bearer {}", o.token))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", o.tool.as_str())
        .body(Full::new(body.clone()))
        .unwrap();
    let response = sender.send_request(request).await.expect("an answer");
    let ok = response.status().is_success();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    let text = String::from_utf8_lossy(&body);
    let answered = ok && text.contains(r#""result""#) && !text.contains(r#""isError":true"#);
    if !answered {
        static TOLD: std::sync::Once = std::sync::Once::new();
        TOLD.call_once(|| eprintln!("http-load: first failed answer: {text}"));
    }
    answered
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let o = match parse() {
        Ok(o) => std::sync::Arc::new(o),
        Err(e) => {
            eprintln!("http-load: {e}");
            std::process::exit(2);
        }
    };
    let body = Bytes::from(format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"_meta":{{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{{}},"io.modelcontextprotocol/clientInfo":{{"name":"http-load","version":"1"}}}},"name":"{}","arguments":{}}}}}"#,
        o.tool, o.args
    ));
    let mut workers = tokio::task::JoinSet::new();
    let per = o.calls.div_ceil(o.concurrency);
    let warm = o.warmup.div_ceil(o.concurrency);
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(o.concurrency + 1));
    for _ in 0..o.concurrency {
        let (o, body, start) = (o.clone(), body.clone(), start.clone());
        workers.spawn(async move {
            let mut sender = connect(&o.url).await;
            for _ in 0..warm {
                call(&mut sender, &o, &body).await;
            }
            start.wait().await;
            let mut latencies = Vec::with_capacity(per);
            let mut failed = 0usize;
            for _ in 0..per {
                let began = Instant::now();
                failed += usize::from(!call(&mut sender, &o, &body).await);
                latencies.push(began.elapsed());
            }
            (latencies, failed)
        });
    }
    start.wait().await;
    let began = Instant::now();
    let mut latencies: Vec<Duration> = Vec::new();
    let mut failed = 0;
    while let Some(done) = workers.join_next().await {
        let (l, f) = done.expect("a worker ends");
        latencies.extend(l);
        failed += f;
    }
    let wall = began.elapsed().as_secs_f64();
    latencies.sort();
    let at =
        |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e6;
    println!(
        r#"{{"calls":{},"concurrency":{},"wall_s":{wall:.4},"calls_per_s":{:.1},"p50_us":{:.1},"p99_us":{:.1},"failed":{failed}}}"#,
        latencies.len(),
        o.concurrency,
        latencies.len() as f64 / wall,
        at(0.5),
        at(0.99),
    );
}
