//! `allow_invisible` lifts the invisible-character rule from one free-text
//! parameter, on a tool or a field; the others keep it, and their tests.
use secure_tool::spec::Kind;
use secure_tool::{Args, Reject, secure_tool, server};

#[derive(Args)]
pub struct Page {
    #[arg(max_len = 100, allow_invisible)]
    pub body: String,
    #[arg(max_len = 100)]
    pub title: String,
}

/// Stores a note whose text is copied verbatim from a document.
#[secure_tool(public, max_len = 100, allow_invisible(text))]
fn store(text: String, label: String, page: Page) -> Result<String, Reject> {
    Ok(format!("{label}: {} {} {}", text.len(), page.title, page.body.len()))
}

server!(Notes { store });

fn main() {
    use secure_tool::server::Tools;
    let spec = Notes::TOOLS[0];
    let invisible = |name: &str| match spec.param(name).unwrap().kind {
        Kind::Text { invisible, .. } => invisible,
        _ => unreachable!(),
    };
    assert!(invisible("text"));
    assert!(!invisible("label"));
    let names: Vec<&str> = spec.generated_tests().map(|t| t.name).collect();
    assert!(names.contains(&"rejects_label_with_invisible_chars"));
    assert!(names.contains(&"rejects_page_title_with_invisible_chars"));
    assert!(!names.iter().any(|n| n.contains("text_with_invisible") || n.contains("body_with_invisible")));
    assert!(names.contains(&"rejects_text_with_control_chars"));
    assert!(names.contains(&"rejects_page_body_with_control_chars"));
}
