use secure_tool::{Reject, secure_tool};

/// Stores an API token for a service.
#[secure_tool(scope = "secrets:write", rename(api_token = "token"))]
fn store(api_token: String) -> Result<String, Reject> {
    Ok(api_token.len().to_string())
}

fn main() {}
