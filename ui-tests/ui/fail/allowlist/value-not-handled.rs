use secure_tool::{Reject, secure_tool};

/// Computes: "pow" was added to the list, but the body does not handle it.
#[secure_tool(allow = ["add", "sub", "pow"], max = 1e6, public)]
fn compute(op: Op, a: f64, b: f64) -> Result<f64, Reject> {
    match op {
        Op::Add => Ok(a + b),
        Op::Sub => Ok(a - b),
    }
}

fn main() {}
