use secure_tool::{Reject, secure_tool};

/// Runs a report; `format` picks a flag but has no allowlist.
#[secure_tool(public, command(format))]
fn report(format: String) -> Result<String, Reject> {
    Ok(format)
}

fn main() {}
