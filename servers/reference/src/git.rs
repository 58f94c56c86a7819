//! `mcp-server-git`: twelve tools over a repository.

use secure_tool::{Json, Reject, secure_tool, server};
use serde_json::{Value, json};

use crate::received;

/// The working tree's status.
#[secure_tool(public)]
pub fn git_status(repo_path: String) -> Result<Json<Value>, Reject> {
    Ok(received("git_status", json!({ "repo_path": repo_path })))
}

/// Changes in the working tree not yet staged.
#[secure_tool(public, max(context_lines = 10_000), default(context_lines = 3))]
pub fn git_diff_unstaged(repo_path: String, context_lines: u32) -> Result<Json<Value>, Reject> {
    Ok(received(
        "git_diff_unstaged",
        json!({ "repo_path": repo_path, "context_lines": context_lines }),
    ))
}

/// Changes staged for commit.
#[secure_tool(public, max(context_lines = 10_000), default(context_lines = 3))]
pub fn git_diff_staged(repo_path: String, context_lines: u32) -> Result<Json<Value>, Reject> {
    Ok(received(
        "git_diff_staged",
        json!({ "repo_path": repo_path, "context_lines": context_lines }),
    ))
}

/// Differences between the working tree and a branch or commit.
#[secure_tool(
    public,
    max_len(target = 255),
    max(context_lines = 10_000),
    default(context_lines = 3)
)]
pub fn git_diff(
    repo_path: String,
    target: String,
    context_lines: u32,
) -> Result<Json<Value>, Reject> {
    Ok(received(
        "git_diff",
        json!({ "repo_path": repo_path, "target": target, "context_lines": context_lines }),
    ))
}

/// Record staged changes.
#[secure_tool(public, max_len(message = 65_536))]
pub fn git_commit(repo_path: String, message: String) -> Result<Json<Value>, Reject> {
    Ok(received(
        "git_commit",
        json!({ "repo_path": repo_path, "message": message }),
    ))
}

/// Stage files.
#[secure_tool(public, max_items(files = 256), unique(files))]
pub fn git_add(repo_path: String, files: Vec<String>) -> Result<Json<Value>, Reject> {
    Ok(received(
        "git_add",
        json!({ "repo_path": repo_path, "files": files }),
    ))
}

/// Unstage every staged change.
#[secure_tool(public)]
pub fn git_reset(repo_path: String) -> Result<Json<Value>, Reject> {
    Ok(received("git_reset", json!({ "repo_path": repo_path })))
}

/// The commit log, optionally between two timestamps.
#[secure_tool(
    public,
    max(max_count = 10_000),
    default(max_count = 10),
    max_len(start_timestamp = 64, end_timestamp = 64)
)]
pub fn git_log(
    repo_path: String,
    max_count: u32,
    start_timestamp: Option<String>,
    end_timestamp: Option<String>,
) -> Result<Json<Value>, Reject> {
    Ok(received(
        "git_log",
        json!({
            "repo_path": repo_path,
            "max_count": max_count,
            "start_timestamp": start_timestamp,
            "end_timestamp": end_timestamp,
        }),
    ))
}

/// Create a branch, from the current one or `base_branch`.
#[secure_tool(public, max_len(branch_name = 255, base_branch = 255))]
pub fn git_create_branch(
    repo_path: String,
    branch_name: String,
    base_branch: Option<String>,
) -> Result<Json<Value>, Reject> {
    Ok(received(
        "git_create_branch",
        json!({ "repo_path": repo_path, "branch_name": branch_name, "base_branch": base_branch }),
    ))
}

/// Switch branches.
#[secure_tool(public, max_len(branch_name = 255))]
pub fn git_checkout(repo_path: String, branch_name: String) -> Result<Json<Value>, Reject> {
    Ok(received(
        "git_checkout",
        json!({ "repo_path": repo_path, "branch_name": branch_name }),
    ))
}

/// A commit's contents.
#[secure_tool(public, max_len(revision = 255))]
pub fn git_show(repo_path: String, revision: String) -> Result<Json<Value>, Reject> {
    Ok(received(
        "git_show",
        json!({ "repo_path": repo_path, "revision": revision }),
    ))
}

/// List branches: local, remote or all, optionally those that contain a commit.
#[secure_tool(
    public,
    allow(branch_type = ["local", "remote", "all"]),
    max_len(contains = 255, not_contains = 255)
)]
pub fn git_branch(
    repo_path: String,
    branch_type: BranchType,
    contains: Option<String>,
    not_contains: Option<String>,
) -> Result<Json<Value>, Reject> {
    Ok(received(
        "git_branch",
        json!({
            "repo_path": repo_path,
            "branch_type": branch_type.as_str(),
            "contains": contains,
            "not_contains": not_contains,
        }),
    ))
}

server!(pub Git {
    git_status,
    git_diff_unstaged,
    git_diff_staged,
    git_diff,
    git_commit,
    git_add,
    git_reset,
    git_log,
    git_create_branch,
    git_checkout,
    git_show,
    git_branch,
});
