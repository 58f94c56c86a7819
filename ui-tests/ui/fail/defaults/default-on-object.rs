use secure_tool::{Args, Reject, secure_tool};

#[derive(Args)]
struct Window {
    width: u32,
}

/// Opens a window.
#[secure_tool(public, default(window = 1))]
fn open(window: Window) -> Result<u32, Reject> {
    Ok(window.width)
}

fn main() {}
