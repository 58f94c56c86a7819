use secure_tool::{Reject, secure_tool};

/// Sets a level.
#[secure_tool(max(level = 300), public)]
fn set_level(level: u8) -> Result<u8, Reject> {
    Ok(level)
}

fn main() {}
