use secure_tool::{Reject, secure_tool};

/// Moves a file.
#[secure_tool(public, rename(from = "to"))]
fn move_file(from: String, to: String) -> Result<String, Reject> {
    Ok(format!("{from} -> {to}"))
}

fn main() {}
