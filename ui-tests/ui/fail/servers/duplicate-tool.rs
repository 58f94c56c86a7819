use secure_tool::{Reject, secure_tool, server};

/// Echoes.
#[secure_tool(public)]
fn echo(text: String) -> Result<String, Reject> {
    Ok(text)
}

server!(Tools { echo, echo });

fn main() {}
