use secure_tool::{Reject, secure_tool};

/// Computes.
#[secure_tool(allow = [], public)]
fn compute(op: Op) -> Result<f64, Reject> {
    match op {}
}

fn main() {}
