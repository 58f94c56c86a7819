use secure_tool::{Reject, secure_tool};

/// Echoes.
#[secure_tool(public)]
fn echo(text: &str) -> Result<String, Reject> {
    Ok(text.to_owned())
}

fn main() {}
