//! `basic-server`: serves `compute` and `echo` over MCP on stdin/stdout.

use basic_server::BasicServer;
use secure_tool::Server;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    secure_tool::log::init();
    Server::new(BasicServer).serve_stdio().await
}
