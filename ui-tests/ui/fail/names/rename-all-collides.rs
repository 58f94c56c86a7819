use secure_tool::{Reject, secure_tool};

/// Edits a file.
#[secure_tool(public, rename_all = "lowercase")]
fn edit(dry_run: bool, dryrun: bool) -> Result<bool, Reject> {
    Ok(dry_run && dryrun)
}

fn main() {}
