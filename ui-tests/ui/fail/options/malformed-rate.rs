use secure_tool::{Reject, secure_tool};

/// A rate needs a positive count and a unit of s, min or h.
#[secure_tool(public, rate = "0/s")]
fn zero(text: String) -> Result<String, Reject> {
    Ok(text)
}

/// Days are not a unit.
#[secure_tool(public, rate = "10/day")]
fn daily(text: String) -> Result<String, Reject> {
    Ok(text)
}

/// A number is not a rate.
#[secure_tool(public, rate = 10)]
fn bare(text: String) -> Result<String, Reject> {
    Ok(text)
}

fn main() {}
