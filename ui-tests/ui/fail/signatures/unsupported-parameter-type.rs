use secure_tool::{Reject, secure_tool};

/// Sums.
#[secure_tool(public)]
fn sum(values: std::collections::HashMap<String, u8>) -> Result<u64, Reject> {
    Ok(values.values().map(|&v| u64::from(v)).sum())
}

fn main() {}
