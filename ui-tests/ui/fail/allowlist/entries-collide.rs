use secure_tool::{Reject, secure_tool};

/// Picks.
#[secure_tool(allow = ["dry-run", "dry_run"], public)]
fn pick(mode: Mode) -> Result<String, Reject> {
    Ok(format!("{mode:?}"))
}

fn main() {}
