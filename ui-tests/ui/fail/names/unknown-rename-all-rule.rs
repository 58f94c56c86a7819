use secure_tool::{Reject, secure_tool};

/// Edits a file.
#[secure_tool(public, rename_all = "camel")]
fn edit(dry_run: bool) -> Result<bool, Reject> {
    Ok(dry_run)
}

fn main() {}
