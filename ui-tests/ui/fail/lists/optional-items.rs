use secure_tool::{Reject, secure_tool};

/// Counts present names.
#[secure_tool(public)]
fn count(names: Vec<Option<String>>) -> Result<u64, Reject> {
    Ok(names.iter().flatten().count() as u64)
}

fn main() {}
