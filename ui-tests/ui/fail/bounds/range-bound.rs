use secure_tool::{Reject, secure_tool};

/// Lists notes.
#[secure_tool(public, max(limit = 1..=50))]
fn list(limit: u32) -> Result<u32, Reject> {
    Ok(limit)
}

fn main() {}
