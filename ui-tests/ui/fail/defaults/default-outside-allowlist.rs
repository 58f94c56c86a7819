use secure_tool::{Reject, secure_tool};

/// Lists a directory.
#[secure_tool(public, allow(sort_by = ["name", "size"]), default(sort_by = "date"))]
fn list(sort_by: SortBy) -> Result<&'static str, Reject> {
    Ok(sort_by.as_str())
}

fn main() {}
