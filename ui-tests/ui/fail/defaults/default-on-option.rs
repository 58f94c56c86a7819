use secure_tool::{Reject, secure_tool};

/// Shows a log.
#[secure_tool(public, default(count = 10))]
fn log(count: Option<u32>) -> Result<u32, Reject> {
    Ok(count.unwrap_or(0))
}

fn main() {}
