use secure_tool::{Reject, secure_tool};

/// Echoes.
#[secure_tool(public)]
fn echo(text: impl AsRef<str>) -> Result<String, Reject> {
    Ok(text.as_ref().to_owned())
}

fn main() {}
