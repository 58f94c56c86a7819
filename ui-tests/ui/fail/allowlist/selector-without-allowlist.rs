use secure_tool::{Reject, secure_tool};

/// Computes.
#[secure_tool(public, max = 1e6)]
fn compute(op: Op, a: f64) -> Result<f64, Reject> {
    let _ = op;
    Ok(a)
}

enum Op {}

fn main() {}
