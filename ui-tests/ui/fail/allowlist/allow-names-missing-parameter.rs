use secure_tool::{Reject, secure_tool};

/// Computes.
#[secure_tool(allow(operation = ["add"]), max = 1e6, public)]
fn compute(op: Op, a: f64) -> Result<f64, Reject> {
    match op {
        Op::Add => Ok(a),
    }
}

fn main() {}
