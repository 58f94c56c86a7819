use secure_tool::{Reject, secure_tool};

/// Echoes.
#[secure_tool(public = true)]
fn echo(text: String) -> Result<String, Reject> {
    Ok(text)
}

fn main() {}
