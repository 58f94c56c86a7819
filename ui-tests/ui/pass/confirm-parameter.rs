//! A destructive tool may declare its `confirm: bool`; it only ever receives `true`.
use secure_tool::{Reject, secure_tool, server};
use secure_tool::server::Tools;
use secure_tool::spec::Kind;

/// Deletes a row.
#[secure_tool(max(id = 1000), scope = "rows:delete", confirm)]
fn delete_row(id: u32, confirm: bool) -> Result<String, Reject> {
    assert!(confirm);
    Ok(format!("deleted {id}"))
}

/// Deletes everything; the flag is added to the schema without being declared.
#[secure_tool(scope = "rows:delete", confirm)]
fn truncate(table: String) -> Result<String, Reject> {
    Ok(format!("truncated {table}"))
}

server!(Rows { delete_row, truncate });

fn main() {
    assert!(matches!(Rows::TOOLS[0].params[1].kind, Kind::Confirm));
    let last = Rows::TOOLS[1].params.last().unwrap();
    assert_eq!(last.name, "confirm");
    assert!(matches!(last.kind, Kind::Confirm));
    assert!(Rows::TOOLS[1].confirm);
}
