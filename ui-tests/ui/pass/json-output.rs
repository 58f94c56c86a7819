//! Structured output of any serializable type, with its schema.
use secure_tool::{Json, Reject, secure_tool, server};
use secure_tool::server::Tools;

#[derive(serde::Serialize, schemars::JsonSchema)]
struct Stats {
    words: u32,
    lines: u32,
}

/// Counts words and lines.
#[secure_tool(allow(unit = ["words", "lines"]), public)]
fn stats(unit: Unit, text: String) -> Result<Json<Stats>, Reject> {
    let _ = unit;
    Ok(Json(Stats {
        words: text.split_whitespace().count() as u32,
        lines: text.lines().count() as u32,
    }))
}

server!(Counter { stats });

fn main() {
    let schema = (Counter::TOOLS[0].output_schema)().expect("an output schema");
    assert!(schema["properties"]["words"].is_object());
}
