use secure_tool::{Reject, secure_tool, server};

/// Echoes.
#[secure_tool(public)]
fn echo(text: String) -> Result<String, Reject> {
    Ok(text)
}

fn shell(command: String) -> Result<String, Reject> {
    Ok(command)
}

server!(Tools { echo, shell });

fn main() {}
