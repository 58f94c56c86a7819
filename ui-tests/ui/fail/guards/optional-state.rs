use secure_tool::{Reject, State, secure_tool};

struct Db;

/// Reads.
#[secure_tool(public)]
fn read(db: Option<State<Db>>, id: i64) -> Result<i64, Reject> {
    let _ = db;
    Ok(id)
}

fn main() {}
