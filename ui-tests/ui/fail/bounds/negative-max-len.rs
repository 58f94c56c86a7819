use secure_tool::{Reject, secure_tool};

/// Echoes.
#[secure_tool(max_len = -1, public)]
fn echo(text: String) -> Result<String, Reject> {
    Ok(text)
}

fn main() {}
