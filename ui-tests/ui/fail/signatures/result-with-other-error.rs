use secure_tool::{Reject, secure_tool};

/// Parses.
#[secure_tool(public)]
fn parse(text: String) -> Result<f64, String> {
    text.parse().map_err(|_| text)
}

fn main() {
    let _: Option<Reject> = None;
}
