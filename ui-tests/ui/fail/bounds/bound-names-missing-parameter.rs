use secure_tool::{Reject, secure_tool};

/// Computes.
#[secure_tool(max(z = 5), max = 1e6, public)]
fn compute(a: f64, b: f64) -> Result<f64, Reject> {
    Ok(a + b)
}

fn main() {}
