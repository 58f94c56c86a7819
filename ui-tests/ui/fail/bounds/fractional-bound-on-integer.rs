use secure_tool::{Reject, secure_tool};

/// Sets a level.
#[secure_tool(min(level = 0), max(level = 2.5), public)]
fn set_level(level: i32) -> Result<i32, Reject> {
    Ok(level)
}

fn main() {}
