use secure_tool::{Reject, secure_tool};

/// Reads a file.
#[secure_tool(public, max_items = 5)]
fn read(path: String) -> Result<String, Reject> {
    Ok(path)
}

fn main() {}
