use secure_tool::{Reject, Server, secure_tool, server};

/// Returns the text unchanged.
#[secure_tool(public)]
fn echo(text: String) -> Result<String, Reject> {
    Ok(text)
}

server!(Echo [echo]);

fn main() {
    // The server still exists: its use reports nothing further.
    let _ = Server::new(Echo);
}
