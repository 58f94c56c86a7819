use secure_tool::{Reject, secure_tool};

/// Edits a file.
#[secure_tool(public, default(dryrun = true))]
fn edit(dry_run: bool) -> Result<bool, Reject> {
    Ok(dry_run)
}

fn main() {}
