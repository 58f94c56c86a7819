use secure_tool::{CheckedUrl, Reject, secure_tool};

/// Fetches several pages.
#[secure_tool(public)]
fn fetch_all(urls: Vec<CheckedUrl>) -> Result<u64, Reject> {
    Ok(urls.len() as u64)
}

fn main() {}
