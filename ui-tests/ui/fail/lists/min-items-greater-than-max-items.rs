use secure_tool::{Reject, secure_tool};

/// Stages files.
#[secure_tool(public, min_items(files = 10), max_items(files = 5))]
fn add(files: Vec<String>) -> Result<u64, Reject> {
    Ok(files.len() as u64)
}

fn main() {}
