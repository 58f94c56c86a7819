use secure_tool::{Reject, secure_tool};

/// Renders.
#[secure_tool(public, allow(format = ["words"]), command)]
fn render(format: Format) -> Result<String, Reject> {
    Ok(format.as_str().to_owned())
}

fn main() {}
