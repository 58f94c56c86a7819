use secure_tool::{Reject, secure_tool};

/// Adds a pair.
#[secure_tool(public)]
fn add((a, b): (f64, f64)) -> Result<f64, Reject> {
    Ok(a + b)
}

fn main() {}
