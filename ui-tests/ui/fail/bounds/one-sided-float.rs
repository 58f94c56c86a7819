use secure_tool::{Reject, secure_tool};

/// Converts a temperature: `max(value = ..)` alone would let -1e300 through.
#[secure_tool(public, max(value = 1e6))]
fn convert(value: f64) -> Result<f64, Reject> {
    Ok(value)
}

fn main() {}
