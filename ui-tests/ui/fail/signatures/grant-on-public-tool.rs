use secure_tool::{Grant, Reject, secure_tool};

/// Deletes a note: but a public tool is granted nothing.
#[secure_tool(public)]
fn delete_note(grant: Grant, id: u32) -> Result<String, Reject> {
    grant.check("someone")?;
    Ok(format!("deleted {id}"))
}

fn main() {}
