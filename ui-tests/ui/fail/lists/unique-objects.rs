use secure_tool::{Args, Reject, secure_tool};

#[derive(Args)]
struct Edit {
    old: String,
}

/// Applies edits.
#[secure_tool(public, unique(edits))]
fn edit(edits: Vec<Edit>) -> Result<u64, Reject> {
    Ok(edits.iter().map(|e| e.old.len() as u64).sum())
}

fn main() {}
