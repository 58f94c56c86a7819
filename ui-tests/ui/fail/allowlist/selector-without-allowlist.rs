use secure_tool::{Reject, secure_tool};

/// Computes.
#[secure_tool(public)]
fn compute(op: Op, a: f64) -> Result<f64, Reject> {
    let _ = op;
    Ok(a)
}

enum Op {}

fn main() {}
