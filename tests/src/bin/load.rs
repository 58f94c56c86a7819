//! External load against an MCP server over stdio: spawns the server, opens
//! one MCP session, and keeps `--concurrency` calls of `compute` in flight
//! until `--calls` have been answered. Prints calls/s, p50 and p99 latency.
//!
//! ```text
//! load --server target/release/basic-server [--concurrency 8] [--calls 20000]
//! ```
//!
//! `bench/load.sh` builds the release binaries and runs it at concurrency 1 and 8.

use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rmcp::ServiceExt as _;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use serde_json::json;

struct Options {
    server: String,
    concurrency: usize,
    calls: usize,
}

fn parse() -> Result<Options, String> {
    let mut options = Options {
        server: String::new(),
        concurrency: 1,
        calls: 20_000,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or(format!("{arg} needs a value"))?;
        let number = || {
            value
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or(format!("{arg} needs a positive number"))
        };
        match arg.as_str() {
            "--server" => options.server = value.clone(),
            "--concurrency" => options.concurrency = number()?,
            "--calls" => options.calls = number()?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if options.server.is_empty() {
        return Err("--server PATH is required".to_owned());
    }
    Ok(options)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("load: {e}");
            return ExitCode::from(2);
        }
    };
    let mut command = tokio::process::Command::new(&options.server);
    // The load is the point: no per-subject limit.
    command.args(["--rate-limit", "off"]);
    let transport = match TokioChildProcess::builder(command)
        .stderr(Stdio::null())
        .spawn()
    {
        Ok((transport, _)) => transport,
        Err(e) => {
            eprintln!("load: cannot start {}: {e}", options.server);
            return ExitCode::FAILURE;
        }
    };
    let client = match ().serve(transport).await {
        Ok(client) => Arc::new(client),
        Err(e) => {
            eprintln!("load: MCP handshake failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..options.concurrency {
        let (client, next, total) = (client.clone(), next.clone(), options.calls);
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < total {
                let args = json!({"op": "add", "a": 2, "b": 3});
                let request = CallToolRequestParams::new("compute")
                    .with_arguments(args.as_object().expect("an object").clone());
                let sent = Instant::now();
                let result = client.call_tool(request).await.map_err(|e| e.to_string())?;
                latencies.push(sent.elapsed());
                if result.is_error == Some(true) {
                    return Err(format!("refused: {:?}", result.content));
                }
            }
            Ok::<_, String>(latencies)
        }));
    }
    let mut latencies = Vec::with_capacity(options.calls);
    for worker in workers {
        match worker.await {
            Ok(Ok(mut mine)) => latencies.append(&mut mine),
            Ok(Err(e)) => {
                eprintln!("load: {e}");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("load: a worker failed: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    println!(
        "concurrency {:>2}: {} calls in {:.2} s: {:.0} calls/s, p50 {:.0} µs, p99 {:.0} µs",
        options.concurrency,
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e6,
        percentile(&latencies, 0.99).as_secs_f64() * 1e6,
    );
    ExitCode::SUCCESS
}
