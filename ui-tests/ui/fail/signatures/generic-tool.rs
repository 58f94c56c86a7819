use secure_tool::{Reject, secure_tool};

/// Echoes anything.
#[secure_tool(public)]
fn echo<T: ToString>(value: T) -> Result<String, Reject> {
    Ok(value.to_string())
}

fn main() {}
