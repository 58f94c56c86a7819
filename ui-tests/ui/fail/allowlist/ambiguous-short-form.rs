use secure_tool::{Reject, secure_tool};

/// Renders.
#[secure_tool(allow = ["words", "lines"], public)]
fn render(format: Format, title: String) -> Result<String, Reject> {
    let _ = format;
    Ok(title)
}

fn main() {}
