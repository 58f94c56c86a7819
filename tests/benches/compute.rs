//! The same `compute` tool three ways, in one run: through `#[secure_tool]` and
//! the full pipeline; as a hand-written rmcp `#[tool]` with the same checks
//! written by hand; and as an rmcp tool with no checks at all.
//!
//! `cargo bench -p secure-tool-tests --bench compute`

use std::hint::black_box;

use basic_server::{BasicServer, compute};
use criterion::{Criterion, criterion_group, criterion_main};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::{ErrorData, ServerHandler, schemars, tool, tool_handler, tool_router};
use secure_tool::Server;
use secure_tool::pipeline::{Guards, Tool};
use secure_tool_tests::{Client, call, connect, ready};
use serde_json::{Value, json};

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ComputeArgs {
    op: String,
    a: f64,
    b: f64,
}

/// The checks of `compute`, written by hand.
fn checked(args: &ComputeArgs) -> Result<f64, String> {
    for (name, x) in [("a", args.a), ("b", args.b)] {
        if !x.is_finite() || x.abs() > 1e9 {
            return Err(format!("{name} out of range"));
        }
    }
    let r = match args.op.as_str() {
        "add" => args.a + args.b,
        "sub" => args.a - args.b,
        "mul" => args.a * args.b,
        "div" if args.b == 0.0 => return Err("division by zero".into()),
        "div" => args.a / args.b,
        _ => return Err("op not allowed".into()),
    };
    if r.is_finite() {
        Ok(r)
    } else {
        Err("not finite".into())
    }
}

#[derive(Clone)]
struct HandWritten {
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl HandWritten {
    #[tool(description = "Four-operation calculator over bounded, finite operands.")]
    fn compute(
        &self,
        Parameters(args): Parameters<ComputeArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(match checked(&args) {
            Ok(r) => CallToolResult::structured(json!({ "result": r })),
            Err(e) => CallToolResult::error(vec![ContentBlock::text(e)]),
        })
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for HandWritten {}

#[derive(Clone)]
struct Unchecked {
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Unchecked {
    #[tool(description = "Four-operation calculator with no checks.")]
    fn compute(
        &self,
        Parameters(args): Parameters<ComputeArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let r = match args.op.as_str() {
            "sub" => args.a - args.b,
            "mul" => args.a * args.b,
            "div" => args.a / args.b,
            _ => args.a + args.b,
        };
        Ok(CallToolResult::structured(json!({ "result": r })))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Unchecked {}

fn validation(c: &mut Criterion) {
    let args = json!({"op": "mul", "a": 12.5, "b": -3.25});
    let map = args.as_object().unwrap().clone();
    let guards = Guards::default();
    let mut group = c.benchmark_group("validate compute arguments");
    group.bench_function("secure_tool", |b| {
        b.iter(|| {
            ready(<compute::__SecureTool as Tool>::validate(
                black_box(&map),
                &guards,
            ))
            .unwrap()
        })
    });
    group.bench_function("hand-written serde + checks", |b| {
        b.iter(|| {
            let parsed: ComputeArgs = serde_json::from_value(black_box(args.clone())).unwrap();
            checked(&parsed).unwrap()
        })
    });
    group.finish();
}

async fn round_trip(client: &Client) {
    let result = call(
        client,
        "compute",
        json!({"op": "mul", "a": 12.5, "b": -3.25}),
    )
    .await;
    assert_eq!(result.structured_content, Some(json!({"result": -40.625})));
}

fn end_to_end(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // A limit no benchmark reaches: the limiter still runs on every call.
    let unreachable = secure_tool::Rate::new(u32::MAX, std::time::Duration::from_secs(1));
    let framework = rt.block_on(connect(
        Server::new(BasicServer).with_subject_rate(Some(unreachable)),
    ));
    let hand = rt.block_on(connect(HandWritten {
        tool_router: HandWritten::tool_router(),
    }));
    // Metrics counted, and a trace of every call sent to a collector on
    // loopback.
    let observed = rt.block_on(async {
        let collector = secure_tool_tests::collector::Collector::sink().await;
        let telemetry =
            secure_tool::telemetry::Telemetry::with_otlp("basic-server", &collector.url()).unwrap();
        let server = Server::new(BasicServer)
            .with_subject_rate(Some(unreachable))
            .with_telemetry(telemetry);
        (connect(server).await, collector)
    });
    let counted = rt.block_on(connect(
        Server::new(BasicServer)
            .with_subject_rate(Some(unreachable))
            .with_telemetry(secure_tool::telemetry::Telemetry::new("basic-server")),
    ));
    let bare = rt.block_on(connect(Unchecked {
        tool_router: Unchecked::tool_router(),
    }));
    let mut group = c.benchmark_group("compute over an in-memory MCP transport");
    group.bench_function("secure_tool, full pipeline", |b| {
        b.iter(|| rt.block_on(round_trip(&framework)))
    });
    group.bench_function("secure_tool, full pipeline, metrics", |b| {
        b.iter(|| rt.block_on(round_trip(&counted)))
    });
    group.bench_function("secure_tool, full pipeline, metrics and traces", |b| {
        b.iter(|| rt.block_on(round_trip(&observed.0)))
    });
    group.bench_function("hand-written rmcp tool, same checks", |b| {
        b.iter(|| rt.block_on(round_trip(&hand)))
    });
    group.bench_function("rmcp tool, no checks", |b| {
        b.iter(|| rt.block_on(round_trip(&bare)))
    });
    group.finish();
    let _: Value = Value::Null;
}

criterion_group!(benches, validation, end_to_end);
criterion_main!(benches);
