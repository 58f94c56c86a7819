use secure_tool::{Reject, secure_tool};

/// Computes.
#[secure_tool(allow = ["add", "sub"], max = 1e6, public)]
fn compute(op: String, a: f64) -> Result<f64, Reject> {
    let _ = op;
    Ok(a)
}

fn main() {}
