use secure_tool::{Reject, secure_tool};

/// Reads lines: `max(lines = ..)` alone would let -9223372036854775808 through.
#[secure_tool(public, max(lines = 100))]
fn head(lines: i64) -> Result<i64, Reject> {
    Ok(lines)
}

fn main() {}
