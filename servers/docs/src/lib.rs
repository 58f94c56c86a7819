//! doc-server: six document tools, each a `#[secure_tool]` function, over a
//! sqlx store (SQLite by default, PostgreSQL when the URL says so) with casbin
//! policies persisted in the same database.
//!
//! Every check the tools need comes from their declarations and the runtime:
//! tokens and scopes, roles, argument gates, the command guard of
//! `render_document`, the SSRF guard of `import_url`, consent for
//! `delete_document`, ownership for `update_document` and `delete_document`
//! (an editor changes only the documents it created; an admin any), and
//! redaction plus spotlighting of what `read_document` returns.

pub mod demo;
pub mod store;

use secure_tool::guards::command::{self, Limits};
use secure_tool::{CheckedUrl, Grant, Principal, Reject, State, Untrusted, secure_tool, server};

pub use store::Documents;

/// The audience doc-server tokens must be minted for.
pub const AUDIENCE: &str = "doc-server";

/// The longest document body accepted, in chars.
pub const MAX_CONTENT: usize = 65_536;

/// Creates a document owned by the caller.
#[secure_tool(
    scope = "documents:create",
    max_len(title = 200),
    max_len(content = 65536)
)]
pub async fn create_document(
    docs: State<Documents>,
    caller: Principal,
    title: String,
    content: String,
) -> Result<String, Reject> {
    let id = docs.create(&title, &content, caller.subject()).await?;
    Ok(format!("created document id={id}"))
}

/// Reads a document. Its content is returned as untrusted data: secrets are
/// redacted and the text is wrapped in `<untrusted_content_B>` delimiters with a random boundary.
#[secure_tool(scope = "documents:read", min(id = 1))]
pub async fn read_document(docs: State<Documents>, id: i64) -> Result<Untrusted, Reject> {
    let doc = docs.read(id).await?;
    Ok(
        Untrusted::new(format!("document:{id}"), doc.content).with_preface(format!(
            "read document id={id} (created_by {})",
            doc.created_by
        )),
    )
}

/// Replaces a document's content. A role that may update only its own
/// documents cannot touch another subject's.
#[secure_tool(scope = "documents:update", min(id = 1), max_len(content = 65536))]
pub async fn update_document(
    docs: State<Documents>,
    grant: Grant,
    id: i64,
    content: String,
) -> Result<String, Reject> {
    let rows = docs.update(id, &content, &grant).await?;
    Ok(format!("updated {rows} row(s) for document id={id}"))
}

/// Deletes a document. Destructive: needs `confirm: true`, and the user's
/// approval when the client can ask for it. A role that may delete only its
/// own documents cannot touch another subject's.
#[secure_tool(scope = "documents:delete", min(id = 1), confirm = "human")]
pub async fn delete_document(
    docs: State<Documents>,
    grant: Grant,
    id: i64,
) -> Result<String, Reject> {
    let rows = docs.delete(id, &grant).await?;
    Ok(format!("deleted {rows} row(s) for document id={id}"))
}

/// Counts a document's words, lines or chars with `wc`. The format picks a
/// fixed flag; the document reaches `wc` on stdin; there is no shell.
#[secure_tool(
    scope = "documents:read",
    min(id = 1),
    allow(format = ["words", "lines", "chars"]),
    command(format)
)]
pub async fn render_document(
    docs: State<Documents>,
    id: i64,
    format: Format,
) -> Result<String, Reject> {
    let doc = docs.read(id).await?;
    let flag = match format {
        Format::Words => "-w",
        Format::Lines => "-l",
        Format::Chars => "-m",
    };
    let out = command::run("wc", &[flag], doc.content.as_bytes(), Limits::default()).await?;
    Ok(format!(
        "rendered document id={id} ({}): {}",
        format.as_str(),
        out.trim()
    ))
}

/// Fetches an https URL through the SSRF guard and stores the body as a new
/// document. It creates a document, so it needs `documents:create`. Each
/// fetch costs an outbound connection, so each caller may import 30 a minute.
#[secure_tool(scope = "documents:create", max_len(url = 2048), rate = "30/min")]
pub async fn import_url(
    docs: State<Documents>,
    caller: Principal,
    url: CheckedUrl,
) -> Result<String, Reject> {
    let fetched = url.fetch().await?;
    if fetched.status != 200 {
        return Err(Reject::field(
            "url",
            format!("the server answered {}", fetched.status),
        ));
    }
    let Ok(content) = String::from_utf8(fetched.body) else {
        return Err(Reject::field("url", "the body is not UTF-8 text"));
    };
    if content.chars().count() > MAX_CONTENT {
        return Err(Reject::field(
            "url",
            format!("the body is longer than {MAX_CONTENT} chars"),
        ));
    }
    let title = fetched.url.to_string();
    let id = docs.create(&title, &content, caller.subject()).await?;
    // The answer names no URL: after a redirect, the final one is chosen by
    // the remote server, and text outside the delimiters carries nothing a
    // caller or a remote controls. `read_document` returns the content.
    Ok(format!(
        "imported document id={id} ({} bytes)",
        content.len()
    ))
}

server!(pub DocServer {
    create_document,
    read_document,
    update_document,
    delete_document,
    render_document,
    import_url,
});

/// The command that rewrites `threat_model.md` from the declarations above.
pub const REGENERATE_THREAT_MODEL: &str =
    "cargo run -q -p doc-server --bin doc-server -- threat-model > servers/docs/threat_model.md";
