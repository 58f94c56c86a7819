use secure_tool::{Reject, secure_tool};

/// Computes.
#[secure_tool(allow(a = ["1", "2"]), max = 1e6, public)]
fn compute(a: f64) -> Result<f64, Reject> {
    Ok(a)
}

fn main() {}
