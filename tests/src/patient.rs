//! A server with a tool that takes as long as it is told, for tests of call
//! timeouts and of clients that abandon a call.

use std::time::Duration;

use secure_tool::{Reject, secure_tool, server};

/// Sleeps, to stand for a tool that hangs on a slow dependency.
#[secure_tool(public, max(secs = 86400))]
pub async fn slow(secs: u32) -> Result<String, Reject> {
    tokio::time::sleep(Duration::from_secs(secs.into())).await;
    Ok("woke".to_owned())
}

/// Returns its text.
#[secure_tool(public)]
pub fn echo(text: String) -> Result<String, Reject> {
    Ok(text)
}

server!(pub Patient { slow, echo });
