use secure_tool::{Grant, Reject, secure_tool};

/// Deletes a note, without looking at whose it is.
#[secure_tool(scope = "notes:delete")]
fn delete_note(_grant: Grant, id: u32) -> Result<String, Reject> {
    Ok(format!("deleted {id}"))
}

fn main() {}
