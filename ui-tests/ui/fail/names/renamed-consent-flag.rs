use secure_tool::{Reject, secure_tool};

/// Deletes everything.
#[secure_tool(public, confirm, rename(confirm = "ok"))]
fn wipe(confirm: bool) -> Result<bool, Reject> {
    Ok(confirm)
}

fn main() {}
