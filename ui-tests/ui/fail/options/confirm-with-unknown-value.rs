use secure_tool::{Reject, secure_tool};

/// Deletes a note.
#[secure_tool(public, confirm = "robot")]
fn delete(id: u32) -> Result<u32, Reject> {
    Ok(id)
}

fn main() {}
