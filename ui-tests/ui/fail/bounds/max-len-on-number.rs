use secure_tool::{Reject, secure_tool};

/// Computes.
#[secure_tool(max_len(a = 5), max = 1e6, public)]
fn compute(a: f64) -> Result<f64, Reject> {
    Ok(a)
}

fn main() {}
