use secure_tool::{Reject, secure_tool};

/// Counts.
#[secure_tool(public, max(n = 10), allow(op = ["add"]), allow_invisible(n, op, missing))]
fn count(n: u32, op: Op) -> Result<u32, Reject> {
    let _ = op;
    Ok(n)
}

fn main() {}
