//! `@modelcontextprotocol/server-filesystem`: fourteen tools over paths.

use secure_tool::{Args, Json, Reject, secure_tool, server};
use serde_json::{Value, json};

use crate::received;

/// Read a file as text; `head` or `tail` keep only the first or last lines.
#[secure_tool(public, rename_all = "camelCase")]
pub fn read_file(
    path: String,
    tail: Option<u32>,
    head: Option<u32>,
) -> Result<Json<Value>, Reject> {
    Ok(received(
        "read_file",
        json!({ "path": path, "tail": tail, "head": head }),
    ))
}

/// Read a file as text; `head` or `tail` keep only the first or last lines.
#[secure_tool(public)]
pub fn read_text_file(
    path: String,
    tail: Option<u32>,
    head: Option<u32>,
) -> Result<Json<Value>, Reject> {
    if tail.is_some() && head.is_some() {
        return Err(Reject::field("head", "give `head` or `tail`, not both"));
    }
    Ok(received(
        "read_text_file",
        json!({ "path": path, "tail": tail, "head": head }),
    ))
}

/// Read an image or audio file as base64 with its MIME type.
#[secure_tool(public)]
pub fn read_media_file(path: String) -> Result<Json<Value>, Reject> {
    Ok(received("read_media_file", json!({ "path": path })))
}

/// Read several files at once; one failure does not stop the others.
#[secure_tool(public, min_items(paths = 1), max_items(paths = 64), unique(paths))]
pub fn read_multiple_files(paths: Vec<String>) -> Result<Json<Value>, Reject> {
    Ok(received("read_multiple_files", json!({ "paths": paths })))
}

/// Create or overwrite a file.
#[secure_tool(public, max_len(content = 262_144))]
pub fn write_file(path: String, content: String) -> Result<Json<Value>, Reject> {
    Ok(received(
        "write_file",
        json!({ "path": path, "bytes": content.len() }),
    ))
}

/// One replacement in `edit_file`: exact text and what replaces it.
#[derive(Debug, Args)]
#[arg(rename_all = "camelCase")]
pub struct Edit {
    /// Text to search for; must match exactly.
    #[arg(max_len = 65_536)]
    pub old_text: String,
    /// Text to replace it with.
    #[arg(max_len = 65_536)]
    pub new_text: String,
}

/// Replace exact text in a file; `dryRun` previews the diff.
#[secure_tool(
    public,
    rename_all = "camelCase",
    max_items(edits = 100),
    default(dry_run = false)
)]
pub fn edit_file(path: String, edits: Vec<Edit>, dry_run: bool) -> Result<Json<Value>, Reject> {
    let edits: Vec<Value> = edits
        .iter()
        .map(|e| json!({ "oldText": e.old_text, "newText": e.new_text }))
        .collect();
    Ok(received(
        "edit_file",
        json!({ "path": path, "edits": edits, "dryRun": dry_run }),
    ))
}

/// Create a directory and its parents.
#[secure_tool(public)]
pub fn create_directory(path: String) -> Result<Json<Value>, Reject> {
    Ok(received("create_directory", json!({ "path": path })))
}

/// List a directory's entries, marked `[FILE]` or `[DIR]`.
#[secure_tool(public)]
pub fn list_directory(path: String) -> Result<Json<Value>, Reject> {
    Ok(received("list_directory", json!({ "path": path })))
}

/// List a directory's entries with their sizes, sorted by name or size.
#[secure_tool(
    public,
    rename_all = "camelCase",
    allow(sort_by = ["name", "size"]),
    default(sort_by = "name")
)]
pub fn list_directory_with_sizes(path: String, sort_by: SortBy) -> Result<Json<Value>, Reject> {
    Ok(received(
        "list_directory_with_sizes",
        json!({ "path": path, "sortBy": sort_by.as_str() }),
    ))
}

/// A recursive tree of a directory as JSON, without the excluded patterns.
#[secure_tool(
    public,
    rename_all = "camelCase",
    max_items(exclude_patterns = 64),
    max_len(exclude_patterns = 256),
    default(exclude_patterns = [])
)]
pub fn directory_tree(path: String, exclude_patterns: Vec<String>) -> Result<Json<Value>, Reject> {
    Ok(received(
        "directory_tree",
        json!({ "path": path, "excludePatterns": exclude_patterns }),
    ))
}

/// Move or rename a file or directory.
#[secure_tool(public)]
pub fn move_file(source: String, destination: String) -> Result<Json<Value>, Reject> {
    Ok(received(
        "move_file",
        json!({ "source": source, "destination": destination }),
    ))
}

/// Search for files matching a glob pattern, without the excluded patterns.
#[secure_tool(
    public,
    rename_all = "camelCase",
    max_len(pattern = 256, exclude_patterns = 256),
    max_items(exclude_patterns = 64),
    default(exclude_patterns = [])
)]
pub fn search_files(
    path: String,
    pattern: String,
    exclude_patterns: Vec<String>,
) -> Result<Json<Value>, Reject> {
    Ok(received(
        "search_files",
        json!({ "path": path, "pattern": pattern, "excludePatterns": exclude_patterns }),
    ))
}

/// Size, times, type and permissions of a file or directory.
#[secure_tool(public)]
pub fn get_file_info(path: String) -> Result<Json<Value>, Reject> {
    Ok(received("get_file_info", json!({ "path": path })))
}

/// The directories this server may access.
#[secure_tool(public)]
pub fn list_allowed_directories() -> Result<Json<Value>, Reject> {
    Ok(received("list_allowed_directories", json!({})))
}

server!(pub Filesystem {
    read_file,
    read_text_file,
    read_media_file,
    read_multiple_files,
    write_file,
    edit_file,
    create_directory,
    list_directory,
    list_directory_with_sizes,
    directory_tree,
    move_file,
    search_files,
    get_file_info,
    list_allowed_directories,
});
