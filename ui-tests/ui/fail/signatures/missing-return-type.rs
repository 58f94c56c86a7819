use secure_tool::{Reject, secure_tool};

/// Logs.
#[secure_tool(public)]
fn log(text: String) {
    let _ = text;
}

fn main() {
    let _: Option<Reject> = None;
}
