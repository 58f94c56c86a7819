use secure_tool::{Reject, secure_tool};

/// Repeats.
#[secure_tool(public)]
fn repeat(times: usize) -> Result<u64, Reject> {
    Ok(times as u64)
}

fn main() {}
