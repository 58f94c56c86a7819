use secure_tool::{Reject, secure_tool, server};

/// Purges a record: a person approves each call on the approval page.
#[secure_tool(public, confirm = "human")]
fn purge(id: u32) -> Result<u32, Reject> {
    Ok(id)
}

server!(Vault { purge });

fn main() {
    assert!(purge::__SECURE_TOOL_SPEC.human && purge::__SECURE_TOOL_SPEC.confirm);
}
