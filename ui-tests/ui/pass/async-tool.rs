//! `async fn` tools are awaited by the generated handler.
use secure_tool::{Reject, Server, secure_tool, server};

/// Waits, then echoes.
#[secure_tool(public)]
async fn later(text: String) -> Result<String, Reject> {
    tokio_free_yield().await;
    Ok(text)
}

async fn tokio_free_yield() {}

server!(Async { later });

fn main() {
    let _ = Server::new(Async);
}
