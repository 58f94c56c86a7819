use secure_tool::{Reject, secure_tool};

/// Shows a log.
#[secure_tool(public, max(count = 100), default(count = 500))]
fn log(count: u32) -> Result<u32, Reject> {
    Ok(count)
}

fn main() {}
