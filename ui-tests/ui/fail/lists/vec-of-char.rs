use secure_tool::{Reject, secure_tool};

/// Joins letters.
#[secure_tool(public)]
fn join(letters: Vec<char>) -> Result<String, Reject> {
    Ok(letters.into_iter().collect())
}

fn main() {}
