use secure_tool::{Reject, secure_tool};

/// Edits a file.
#[secure_tool(public, rename = "dryRun")]
fn edit(dry_run: bool) -> Result<bool, Reject> {
    Ok(dry_run)
}

fn main() {}
