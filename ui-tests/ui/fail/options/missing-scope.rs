use secure_tool::{Reject, secure_tool};

/// Deletes everything, if nobody says who may call it.
#[secure_tool(max = 10)]
fn purge(n: i64) -> Result<i64, Reject> {
    Ok(n)
}

fn main() {}
