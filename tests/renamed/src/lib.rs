//! `secure-tool` renamed to `st`: `::secure_tool` does not resolve here, so
//! every generated path must follow `crate = "st"`. Its generated tests,
//! nested ones included, run under `cargo test`.

use st::{Args, Reject, secure_tool, server};

/// One replacement.
#[derive(Debug, Args)]
#[arg(crate = "st", rename_all = "camelCase")]
pub struct Edit {
    #[arg(max_len = 100)]
    pub old_text: String,
    pub new_text: String,
}

/// Applies edits to a path.
#[secure_tool(
    crate = "st",
    public,
    max_items(edits = 10),
    allow(mode = ["exact", "fuzzy"]),
    default(mode = "exact")
)]
pub fn edit(path: String, edits: Vec<Edit>, mode: Mode) -> Result<String, Reject> {
    Ok(format!(
        "{} edits to {path} ({})",
        edits.len(),
        mode.as_str()
    ))
}

server!(#[secure_tool(crate = "st")] pub Editor { edit });

#[cfg(test)]
mod tests {
    use st::server::Tools as _;

    #[test]
    fn the_server_and_its_nested_tests_exist() {
        let spec = super::Editor::TOOLS[0];
        assert!(
            spec.generated_tests()
                .any(|t| t.name == "rejects_edits_old_text_with_control_chars")
        );
    }
}
