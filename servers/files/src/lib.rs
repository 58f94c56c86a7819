//! files-server: the tools of the official MCP filesystem server, under the
//! same names and wire shapes, each a `#[secure_tool]` function whose paths
//! are `CheckedPath` arguments: resolved beneath one of the server's roots
//! through the root's directory handle before the body runs, and used only
//! through that handle.
//!
//! Reading needs `files:read`; writing, editing, creating and moving need
//! `files:write`, and overwriting (`write_file`, `edit_file`) and moving
//! (`move_file`) are destructive: they need `confirm: true`, and the user's
//! approval when the client can ask. Whatever a file holds is untrusted
//! output: redacted and spotlighted, names included.

pub mod demo;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use globset::{Glob, GlobSet, GlobSetBuilder};
use secure_tool::guards::path::{CheckedPath, Entry, Found, Roots};
use secure_tool::{Args, Json, Reject, State, Untrusted, secure_tool, server};
use serde_json::{Value, json};

/// The largest text file a read returns, in bytes.
pub const MAX_TEXT_BYTES: u64 = 1024 * 1024;

/// The largest media file a read returns, in bytes.
pub const MAX_MEDIA_BYTES: u64 = 8 * 1024 * 1024;

/// The most entries a walk (`directory_tree`, `search_files`) visits.
pub const MAX_WALK_ENTRIES: usize = 10_000;

/// How deep a walk descends.
pub const MAX_WALK_DEPTH: usize = 32;

/// The source label of a file's content in the spotlighting delimiters.
fn source(path: &CheckedPath) -> String {
    format!("file:{}", path.display())
}

/// Read a file as text; `head` or `tail` keep only the first or last lines.
#[secure_tool(scope = "files:read", max(head = 1_000_000, tail = 1_000_000))]
pub fn read_text_file(
    path: CheckedPath,
    tail: Option<u32>,
    head: Option<u32>,
) -> Result<Untrusted, Reject> {
    if tail.is_some() && head.is_some() {
        return Err(Reject::field("head", "give `head` or `tail`, not both"));
    }
    let text = path.read_text(MAX_TEXT_BYTES)?;
    let lines = |n: u32| usize::try_from(n).unwrap_or(usize::MAX);
    let text = match (head, tail) {
        (Some(n), _) => text.lines().take(lines(n)).collect::<Vec<_>>().join("\n"),
        (_, Some(n)) => {
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines(n))..].join("\n")
        }
        (None, None) => text,
    };
    Ok(Untrusted::new(source(&path), text))
}

/// The MIME type of an image or audio file, by its extension.
fn media_type(path: &Path) -> Option<(&'static str, &'static str)> {
    let extension = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match extension.as_str() {
        "png" => ("image", "image/png"),
        "jpg" | "jpeg" => ("image", "image/jpeg"),
        "gif" => ("image", "image/gif"),
        "webp" => ("image", "image/webp"),
        "bmp" => ("image", "image/bmp"),
        "svg" => ("image", "image/svg+xml"),
        "mp3" => ("audio", "audio/mpeg"),
        "wav" => ("audio", "audio/wav"),
        "ogg" => ("audio", "audio/ogg"),
        "flac" => ("audio", "audio/flac"),
        _ => return None,
    })
}

/// Read an image or audio file as base64 with its MIME type.
#[secure_tool(scope = "files:read")]
pub fn read_media_file(path: CheckedPath) -> Result<Json<Value>, Reject> {
    let Some((kind, mime)) = media_type(path.relative()) else {
        return Err(Reject::field(
            "path",
            "is not an image or audio file (by its extension)",
        ));
    };
    let bytes = path.read(MAX_MEDIA_BYTES)?;
    Ok(Json(json!({
        "type": kind,
        "mimeType": mime,
        "data": base64::engine::general_purpose::STANDARD.encode(bytes),
    })))
}

/// Read several files at once; one failure does not stop the others.
#[secure_tool(
    scope = "files:read",
    min_items(paths = 1),
    max_items(paths = 64),
    unique(paths)
)]
pub fn read_multiple_files(roots: State<Roots>, paths: Vec<String>) -> Result<Untrusted, Reject> {
    let mut out = Vec::new();
    for (i, raw) in paths.iter().enumerate() {
        let read = roots
            .check(&format!("paths[{i}]"), raw)
            .and_then(|path| path.read_text(MAX_TEXT_BYTES));
        out.push(match read {
            Ok(text) => format!("{raw}:\n{text}\n"),
            Err(refused) => format!("{raw}: Error - {}", refused.reason()),
        });
    }
    Ok(Untrusted::new("files", out.join("\n---\n")))
}

/// Create a file, or overwrite one whole. Destructive: needs `confirm: true`.
#[secure_tool(
    scope = "files:write",
    max_len(content = 1_048_576),
    max_size = 4_400_000,
    confirm
)]
pub fn write_file(path: CheckedPath, content: String) -> Result<String, Reject> {
    path.write(content.as_bytes())?;
    Ok(format!("Successfully wrote to {}", path.display()))
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

/// Replace exact text in a file, edit by edit, and show the unified diff;
/// `dryRun` shows it without writing. Destructive: needs `confirm: true`.
#[secure_tool(
    scope = "files:write",
    rename_all = "camelCase",
    min_items(edits = 1),
    max_items(edits = 100),
    default(dry_run = false),
    confirm
)]
pub fn edit_file(path: CheckedPath, edits: Vec<Edit>, dry_run: bool) -> Result<Untrusted, Reject> {
    let original = path.read_text(MAX_TEXT_BYTES)?;
    let mut edited = original.clone();
    for (i, edit) in edits.iter().enumerate() {
        let field = format!("edits[{i}].oldText");
        if edit.old_text.is_empty() {
            return Err(Reject::field(field, "is empty"));
        }
        let Some(at) = edited.find(&edit.old_text) else {
            return Err(Reject::field(field, "does not occur in the file"));
        };
        edited.replace_range(at..at + edit.old_text.len(), &edit.new_text);
    }
    let shown = path.display();
    // Bounded in time: a diff of two large texts gives up on precision, not
    // on the server.
    let diff = similar::TextDiff::configure()
        .deadline(std::time::Instant::now() + std::time::Duration::from_secs(2))
        .diff_lines(&original, &edited);
    let diff = diff
        .unified_diff()
        .context_radius(3)
        .header(&shown, &shown)
        .to_string();
    if !dry_run {
        path.write(edited.as_bytes())?;
    }
    Ok(Untrusted::new(source(&path), diff))
}

/// Create a directory and its parents.
#[secure_tool(scope = "files:write")]
pub fn create_directory(path: CheckedPath) -> Result<String, Reject> {
    path.create_dir_all()?;
    Ok(format!("Successfully created directory {}", path.display()))
}

/// List a directory's entries, marked `[FILE]` or `[DIR]`.
#[secure_tool(scope = "files:read")]
pub fn list_directory(path: CheckedPath) -> Result<Untrusted, Reject> {
    let lines: Vec<String> = path
        .entries()?
        .into_iter()
        .map(|e| format!("{} {}", if e.is_dir { "[DIR]" } else { "[FILE]" }, e.name))
        .collect();
    Ok(Untrusted::new(source(&path), lines.join("\n")))
}

/// List a directory's entries with their sizes, sorted by name or size.
#[secure_tool(
    scope = "files:read",
    rename_all = "camelCase",
    allow(sort_by = ["name", "size"]),
    default(sort_by = "name")
)]
pub fn list_directory_with_sizes(path: CheckedPath, sort_by: SortBy) -> Result<Untrusted, Reject> {
    let mut entries = path.entries()?;
    if sort_by == SortBy::Size {
        entries.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.name.cmp(&b.name)));
    }
    let files = entries.iter().filter(|e| !e.is_dir).count();
    let total = entries
        .iter()
        .fold(0u64, |sum, e| sum.saturating_add(e.size));
    let mut lines: Vec<String> = entries
        .iter()
        .map(|e| {
            if e.is_dir {
                format!("[DIR]  {}", e.name)
            } else {
                format!("[FILE] {:<30} {:>10}", e.name, e.size)
            }
        })
        .collect();
    lines.push(String::new());
    lines.push(format!(
        "Total: {files} files, {} directories, {total} bytes",
        entries.len() - files
    ));
    Ok(Untrusted::new(source(&path), lines.join("\n")))
}

/// Glob patterns as one matcher; a bad pattern is refused by name.
fn globs(field: &str, patterns: &[String]) -> Result<GlobSet, Reject> {
    let mut set = GlobSetBuilder::new();
    for (i, pattern) in patterns.iter().enumerate() {
        let glob = Glob::new(pattern)
            .map_err(|e| Reject::field(format!("{field}[{i}]"), format!("is not a glob: {e}")))?;
        set.add(glob);
    }
    set.build()
        .map_err(|e| Reject::field(field.to_owned(), format!("cannot be matched: {e}")))
}

/// Whether `relative` (or its last component) matches `set`.
fn matches(set: &GlobSet, relative: &Path) -> bool {
    set.is_match(relative) || relative.file_name().is_some_and(|name| set.is_match(name))
}

/// Every entry beneath `dir`, depth first, with its path relative to `dir`;
/// excluded entries and what is inside them are skipped, links never
/// followed, and the walk is bounded in entries and depth.
fn walk(dir: &CheckedPath, exclude: &GlobSet) -> Result<Vec<(PathBuf, Entry)>, Reject> {
    fn visit(
        dir: &CheckedPath,
        at: &Path,
        depth: usize,
        exclude: &GlobSet,
        out: &mut Vec<(PathBuf, Entry)>,
    ) -> Result<(), Reject> {
        for entry in dir.entries()? {
            let relative = at.join(&entry.name);
            if matches(exclude, &relative) {
                continue;
            }
            if out.len() >= MAX_WALK_ENTRIES {
                return Err(Reject::field(
                    "path",
                    format!("holds more than {MAX_WALK_ENTRIES} entries; narrow the search"),
                ));
            }
            let descend = entry.is_dir && depth < MAX_WALK_DEPTH;
            let name = entry.name.clone();
            out.push((relative.clone(), entry));
            // A directory that cannot be entered now (renamed, or a name
            // that is not UTF-8) is listed, not walked.
            if descend && let Ok(child) = dir.child(&name) {
                match child.found() {
                    Ok(Found::Directory) => {
                        visit(&child, &relative, depth + 1, exclude, out)?;
                    }
                    _ => continue,
                }
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    visit(dir, Path::new(""), 1, exclude, &mut out)?;
    Ok(out)
}

/// A recursive tree of a directory as JSON, without the excluded patterns.
#[secure_tool(
    scope = "files:read",
    rename_all = "camelCase",
    max_items(exclude_patterns = 64),
    max_len(exclude_patterns = 256),
    default(exclude_patterns = [])
)]
pub fn directory_tree(
    path: CheckedPath,
    exclude_patterns: Vec<String>,
) -> Result<Untrusted, Reject> {
    let exclude = globs("excludePatterns", &exclude_patterns)?;
    let entries = walk(&path, &exclude)?;
    // The walk is depth first: each directory's entries follow it, so the
    // tree is built in one pass.
    fn tree(entries: &[(PathBuf, Entry)], at: &mut usize, parent: &Path) -> Vec<Value> {
        let mut level = Vec::new();
        while let Some((relative, entry)) = entries.get(*at) {
            if relative.parent() != Some(parent) {
                break;
            }
            *at += 1;
            level.push(if entry.is_dir {
                let children = tree(entries, at, relative);
                json!({"name": entry.name, "type": "directory", "children": children})
            } else {
                json!({"name": entry.name, "type": "file"})
            });
        }
        level
    }
    let rendered = serde_json::to_string_pretty(&tree(&entries, &mut 0, Path::new("")))
        .map_err(|e| Reject::new(e.to_string()))?;
    Ok(Untrusted::new(source(&path), rendered))
}

/// Move or rename a file or directory; the destination must not exist.
/// Destructive: needs `confirm: true`.
#[secure_tool(scope = "files:write", confirm)]
pub fn move_file(source: CheckedPath, destination: CheckedPath) -> Result<String, Reject> {
    if source.found()? == Found::Nothing {
        return Err(Reject::field("source", "does not exist"));
    }
    source.rename_to(&destination)?;
    Ok(format!(
        "Successfully moved {} to {}",
        source.display(),
        destination.display()
    ))
}

/// Search beneath a directory for entries whose path or name matches a glob
/// pattern, without the excluded patterns.
#[secure_tool(
    scope = "files:read",
    rename_all = "camelCase",
    max_len(pattern = 256, exclude_patterns = 256),
    max_items(exclude_patterns = 64),
    default(exclude_patterns = [])
)]
pub fn search_files(
    path: CheckedPath,
    pattern: String,
    exclude_patterns: Vec<String>,
) -> Result<Untrusted, Reject> {
    let wanted = globs("pattern", std::slice::from_ref(&pattern))?;
    let exclude = globs("excludePatterns", &exclude_patterns)?;
    let base = PathBuf::from(path.display());
    let found: Vec<String> = walk(&path, &exclude)?
        .into_iter()
        .filter(|(relative, _)| matches(&wanted, relative))
        .map(|(relative, _)| base.join(relative).display().to_string())
        .collect();
    let text = if found.is_empty() {
        "No matches found".to_owned()
    } else {
        found.join("\n")
    };
    Ok(Untrusted::new(source(&path), text))
}

/// Size, times, type and permissions of a file or directory.
#[secure_tool(scope = "files:read")]
pub fn get_file_info(path: CheckedPath) -> Result<String, Reject> {
    let info = path.info()?;
    let time = |t: Option<u64>| t.map_or("unknown".to_owned(), |s| format!("{s} (Unix seconds)"));
    Ok(format!(
        "size: {}\ncreated: {}\nmodified: {}\naccessed: {}\nisDirectory: {}\nisFile: {}\npermissions: {}",
        info.size,
        time(info.created),
        time(info.modified),
        time(info.accessed),
        info.is_dir,
        info.is_file,
        info.permissions
    ))
}

/// The directories this server may access.
#[secure_tool(scope = "files:read")]
pub fn list_allowed_directories(roots: State<Roots>) -> Result<String, Reject> {
    let dirs: Vec<String> = roots.paths().map(|p| p.display().to_string()).collect();
    Ok(format!("Allowed directories:\n{}", dirs.join("\n")))
}

server!(pub FilesServer {
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

/// The command that rewrites `threat_model.md` from the declarations above.
pub const REGENERATE_THREAT_MODEL: &str =
    "cargo run -q -p files-server -- threat-model > servers/files/threat_model.md";
