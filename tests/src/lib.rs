//! Helpers for driving servers through a real MCP client over an in-memory transport.

pub use secure_tool_test_support::http;
pub mod collector;
pub mod patient;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, ElicitRequestParams,
    ElicitResult, ElicitationAction, Implementation, ProtocolVersion,
};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt as _, RequestContext, RunningService};
use rmcp::{ClientHandler, ErrorData, RoleClient, ServerHandler, ServiceExt as _};
use serde_json::{Value, json};

/// A connected MCP client with no capabilities of its own.
pub type Client = RunningService<RoleClient, ()>;

/// Serves `server` on one end of an in-memory pipe and connects a plain client to the other.
pub async fn connect<S: ServerHandler>(server: S) -> Client {
    connect_as(server, ()).await
}

/// Serves `server` and connects `handler` as the client, for clients with capabilities.
pub async fn connect_as<S: ServerHandler, C: ClientHandler>(
    server: S,
    handler: C,
) -> RunningService<RoleClient, C> {
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    handler
        .serve(client_io)
        .await
        .expect("the client completes the MCP handshake")
}

/// Serves `server` and connects `handler` on protocol 2026-07-28: no
/// `initialize`, every request carries its own metadata, and the server
/// asks the user through `InputRequiredResult`s, which the client answers
/// and retries.
pub async fn connect_2026<S: ServerHandler, C: ClientHandler>(
    server: S,
    handler: C,
) -> RunningService<RoleClient, C> {
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let lifecycle = ClientLifecycleMode::Discover {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
    };
    handler
        .serve_with_lifecycle(client_io, lifecycle)
        .await
        .expect("the client discovers the server")
}

/// An MCP client whose user answers consent requests: `Some(approve)`, or
/// `None` to cancel.
#[derive(Debug, Clone, Default)]
pub struct Human {
    /// The user's answer.
    pub answer: Option<bool>,
    /// How many times the user was asked.
    pub asked: Arc<AtomicUsize>,
    /// The questions the user was shown.
    pub shown: Arc<Mutex<Vec<String>>>,
}

impl Human {
    /// A user who answers `answer` every time.
    pub fn answering(answer: Option<bool>) -> Self {
        Self {
            answer,
            ..Self::default()
        }
    }

    /// How many times the user was asked.
    pub fn asked(&self) -> usize {
        self.asked.load(Ordering::SeqCst)
    }
}

impl ClientHandler for Human {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::builder().enable_elicitation().build(),
            Implementation::new("human-in-the-loop", "1.0.0"),
        )
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        if let Ok(shown) = serde_json::to_value(&request) {
            let message = shown["message"].as_str().unwrap_or_default().to_owned();
            self.shown.lock().unwrap().push(message);
        }
        Ok(match self.answer {
            Some(approve) => ElicitResult::new(ElicitationAction::Accept)
                .with_content(json!({ "approve": approve })),
            None => ElicitResult::new(ElicitationAction::Cancel),
        })
    }
}

/// Calls `tool` with `args`, which must be a JSON object.
pub async fn call<C: ClientHandler>(
    client: &RunningService<RoleClient, C>,
    tool: &str,
    args: Value,
) -> CallToolResult {
    let Value::Object(args) = args else {
        panic!("arguments must be an object");
    };
    client
        .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args))
        .await
        .expect("the server answers every call")
}

/// The text of a result's first content block.
pub fn text(result: &CallToolResult) -> &str {
    result
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.as_str())
        .unwrap_or_default()
}

/// Polls a future that never waits, such as the validation of a tool that
/// fetches nothing, without a runtime: what benchmarks of pure work need.
pub fn ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("the future waited"),
    }
}

/// `text` with the random boundary of its spotlighting delimiters removed
/// (`untrusted_content_<32 hex>` becomes `untrusted_content`), after checking
/// that the opening and the closing delimiter share one boundary.
pub fn without_boundary(text: &str) -> String {
    const TAG: &str = "untrusted_content_";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut seen: Option<&str> = None;
    while let Some(at) = rest.find(TAG) {
        let after = &rest[at + TAG.len()..];
        let boundary = &after[..32.min(after.len())];
        assert!(
            boundary.len() == 32 && boundary.bytes().all(|b| b.is_ascii_hexdigit()),
            "not a boundary: {after:.40}"
        );
        assert!(
            seen.is_none_or(|b| b == boundary),
            "two boundaries in {text}"
        );
        seen = Some(boundary);
        out.push_str(&rest[..at]);
        out.push_str("untrusted_content");
        rest = &after[32..];
    }
    out.push_str(rest);
    out
}
