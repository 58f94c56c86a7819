use secure_tool::{Reject, secure_tool};

/// Tags a note.
#[secure_tool(public, max(tags = 10))]
fn tag(tags: Vec<String>) -> Result<usize, Reject> {
    Ok(tags.len())
}

fn main() {}
