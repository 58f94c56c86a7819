use secure_tool::{Reject, secure_tool};

/// Scales a value.
#[secure_tool(public)]
fn scale(factor: f64) -> Result<f64, Reject> {
    Ok(factor * 2.0)
}

fn main() {}
