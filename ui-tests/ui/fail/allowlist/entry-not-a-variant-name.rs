use secure_tool::{Reject, secure_tool};

/// Picks.
#[secure_tool(allow = ["first", "2nd"], public)]
fn pick(which: Which) -> Result<String, Reject> {
    Ok(format!("{which:?}"))
}

fn main() {}
