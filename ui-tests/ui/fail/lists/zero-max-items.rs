use secure_tool::{Reject, secure_tool};

/// Stages files.
#[secure_tool(public, max_items(files = 0))]
fn add(files: Vec<String>) -> Result<u64, Reject> {
    Ok(files.len() as u64)
}

fn main() {}
