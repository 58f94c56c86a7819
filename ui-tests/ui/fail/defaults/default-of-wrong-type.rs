use secure_tool::{Reject, secure_tool};

/// Edits a file.
#[secure_tool(public, default(dry_run = 1))]
fn edit(dry_run: bool) -> Result<bool, Reject> {
    Ok(dry_run)
}

fn main() {}
