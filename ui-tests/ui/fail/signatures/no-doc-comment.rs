use secure_tool::{Reject, secure_tool};

#[secure_tool(public, max(id = 100))]
fn read(id: u32) -> Result<u32, Reject> {
    Ok(id)
}

fn main() {}
