use secure_tool::{Reject, secure_tool};

/// Creates a note.
#[secure_tool(public, max_length(title = 100))]
fn create(title: String) -> Result<String, Reject> {
    Ok(title)
}

fn main() {}
