use secure_tool::{Reject, secure_tool};

/// Doubles.
#[secure_tool(public)]
const fn double(a: i32) -> Result<i32, Reject> {
    Ok(a)
}

fn main() {}
