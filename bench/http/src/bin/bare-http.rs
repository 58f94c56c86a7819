//! The baseline: `read_document` written by hand on rmcp's streamable-HTTP
//! server. The bearer token is compared before rmcp sees the request; the
//! tool checks its argument and reads the document from doc-server's SQLite
//! file.
//!
//! `bare-http ADDR SQLITE_URL TOKEN`

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, ServerHandler, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Deserialize, JsonSchema)]
struct ReadArgs {
    id: i64,
}

#[derive(Clone)]
struct Bare {
    pool: sqlx::SqlitePool,
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Bare {
    #[tool(description = "Reads a document")]
    async fn read_document(
        &self,
        Parameters(ReadArgs { id }): Parameters<ReadArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        if id < 1 {
            return Ok(CallToolResult::error(vec![ContentBlock::text(
                "id must be at least 1",
            )]));
        }
        let row: Option<(String,)> = sqlx::query_as("SELECT content FROM documents WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        Ok(match row {
            Some((content,)) => CallToolResult::success(vec![ContentBlock::text(content)]),
            None => CallToolResult::error(vec![ContentBlock::text(format!("no document {id}"))]),
        })
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Bare {}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, url, token] = &args[..] else {
        eprintln!("usage: bare-http ADDR SQLITE_URL TOKEN");
        std::process::exit(2);
    };
    let pool = sqlx::SqlitePool::connect(url)
        .await
        .expect("the database opens");
    let bare = Bare {
        pool,
        tool_router: Bare::tool_router(),
    };
    let mcp = StreamableHttpService::new(
        move || Ok(bare.clone()),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let bearer: Arc<str> = format!("Bearer {token}").into();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .expect("the address binds");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (mcp, bearer) = (mcp.clone(), bearer.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let mut mcp = mcp.clone();
                let allowed = request
                    .headers()
                    .get(hyper::header::AUTHORIZATION)
                    .is_some_and(|v| v.as_bytes() == bearer.as_bytes());
                async move {
                    if !allowed {
                        let body = Full::new(Bytes::from_static(b"unauthorized")).boxed();
                        let mut refused = hyper::Response::new(body);
                        *refused.status_mut() = hyper::StatusCode::UNAUTHORIZED;
                        return Ok::<_, Infallible>(refused);
                    }
                    tower_service::Service::call(&mut mcp, request).await
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}
