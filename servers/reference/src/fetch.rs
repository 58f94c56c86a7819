//! `mcp-server-fetch`: one tool that fetches a URL.

use secure_tool::{CheckedUrl, Json, Reject, secure_tool, server};
use serde_json::{Value, json};

use crate::received;

/// Fetch a URL and return its content, from `start_index`, at most `max_length` characters.
#[secure_tool(
    public,
    min(max_length = 1),
    max(max_length = 999_999),
    default(max_length = 5000, start_index = 0, raw = false)
)]
pub fn fetch(
    url: CheckedUrl,
    max_length: u32,
    start_index: u64,
    raw: bool,
) -> Result<Json<Value>, Reject> {
    Ok(received(
        "fetch",
        json!({
            "url": url.url().as_str(),
            "max_length": max_length,
            "start_index": start_index,
            "raw": raw,
        }),
    ))
}

server!(pub Fetch { fetch });
