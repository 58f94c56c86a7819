//! `basic-server`: serves `compute` and `echo` over MCP on stdin/stdout.
//! `basic-server threat-model` prints its threat model instead.

use basic_server::{BasicServer, REGENERATE_THREAT_MODEL};
use secure_tool::Server;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("threat-model") {
        print!(
            "{}",
            secure_tool::threat_model::render::<BasicServer>(REGENERATE_THREAT_MODEL).await
        );
        return Ok(());
    }
    secure_tool::log::init();
    Server::new(BasicServer).serve_stdio().await
}
