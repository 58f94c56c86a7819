use secure_tool::{Reject, secure_tool};

/// Three independent mistakes, three errors in one build.
#[secure_tool(scop = "documents:read")]
fn read<T>(text: String, id: usize) -> Result<String, Reject> {
    let _ = id;
    Ok(text)
}

fn main() {}
