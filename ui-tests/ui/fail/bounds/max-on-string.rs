use secure_tool::{Reject, secure_tool};

/// Echoes.
#[secure_tool(max(text = 5), public)]
fn echo(text: String) -> Result<String, Reject> {
    Ok(text)
}

fn main() {}
