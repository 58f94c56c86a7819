use secure_tool::{Reject, secure_tool};

/// Echoes.
#[secure_tool(public, max_size = 0)]
fn echo(text: String) -> Result<String, Reject> {
    Ok(text)
}

fn main() {}
