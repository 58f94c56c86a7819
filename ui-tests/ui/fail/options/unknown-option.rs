use secure_tool::{Reject, secure_tool};

/// Reads a document.
#[secure_tool(scop = "documents:read")]
fn read(id: i64) -> Result<i64, Reject> {
    Ok(id)
}

fn main() {}
