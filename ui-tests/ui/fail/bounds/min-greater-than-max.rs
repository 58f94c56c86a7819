use secure_tool::{Reject, secure_tool};

/// Computes.
#[secure_tool(min(a = 10), max(a = 5), public)]
fn compute(a: i32) -> Result<i32, Reject> {
    Ok(a)
}

fn main() {}
