use secure_tool::{Reject, secure_tool};

/// Deletes.
#[secure_tool(scope = "documents:delete", confirm)]
fn delete(id: i64, confirm: String) -> Result<i64, Reject> {
    let _ = confirm;
    Ok(id)
}

fn main() {}
