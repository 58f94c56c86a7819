//! Raw identifiers: the JSON field and the tool name are the unraw'd names.
use secure_tool::{Reject, secure_tool, server};
use secure_tool::server::Tools;

/// Describes a type.
#[secure_tool(allow(r#type = ["struct", "enum"]), public)]
fn r#match(r#type: Kind, r#in: String) -> Result<String, Reject> {
    Ok(format!("{} {}", r#type.as_str(), r#in))
}

server!(Raw { r#match });

fn main() {
    let spec = Raw::TOOLS[0];
    assert_eq!(spec.name, "match");
    assert_eq!(spec.params[0].name, "type");
    assert_eq!(spec.params[1].name, "in");
    assert_eq!(Kind::ALLOWED, ["struct", "enum"]);
}
