use secure_tool::{Reject, secure_tool};

/// Tags a file.
#[secure_tool(public, unique(tags), default(tags = ["a", "a"]))]
fn tag(tags: Vec<String>) -> Result<u64, Reject> {
    Ok(tags.len() as u64)
}

fn main() {}
