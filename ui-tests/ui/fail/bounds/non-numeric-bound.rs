use secure_tool::{Reject, secure_tool};

/// Computes.
#[secure_tool(max = "big", public)]
fn compute(a: i64) -> Result<i64, Reject> {
    Ok(a)
}

fn main() {}
