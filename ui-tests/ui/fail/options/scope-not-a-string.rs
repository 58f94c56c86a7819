use secure_tool::{Reject, secure_tool};

/// Reads.
#[secure_tool(scope = documents_read)]
fn read(id: i64) -> Result<i64, Reject> {
    Ok(id)
}

fn main() {}
