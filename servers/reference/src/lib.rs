//! The tool surfaces of the official MCP reference servers `filesystem`,
//! `memory`, `git`, `fetch` and `time`, declared with `#[secure_tool]` under
//! their exact wire names, with bounds at least as strict as the originals'.
//!
//! Each tool's body answers with the arguments it received, validated and
//! typed (defaults applied): what is shown here is the declaration, the
//! schema clients see and every gate in front of the body. The behaviour of
//! the real servers is theirs.

pub mod fetch;
pub mod filesystem;
pub mod git;
pub mod memory;
pub mod time;

use secure_tool::Json;
use serde_json::Value;

/// What every body answers: the tool's name and the arguments it received.
fn received(tool: &str, args: Value) -> Json<Value> {
    Json(serde_json::json!({ "tool": tool, "args": args }))
}

/// The command that rewrites the committed threat model of the server `name`.
pub fn regenerate(name: &str) -> String {
    format!(
        "cargo run -q -p reference-tools --bin reference-threat-model -- {name} > servers/reference/threat_models/{name}.md"
    )
}
