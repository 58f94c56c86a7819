use secure_tool::{Reject, secure_tool};

/// Counts.
#[secure_tool(public)]
fn count(edits: Vec<String>, edits_items: String) -> Result<u64, Reject> {
    Ok(edits.len() as u64 + edits_items.len() as u64)
}

fn main() {}
