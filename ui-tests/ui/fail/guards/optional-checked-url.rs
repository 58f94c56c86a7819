use secure_tool::{CheckedUrl, Reject, secure_tool};

/// Fetches, maybe.
#[secure_tool(public)]
async fn fetch(url: Option<CheckedUrl>) -> Result<String, Reject> {
    Ok(url.map(|u| u.url().to_string()).unwrap_or_default())
}

fn main() {}
