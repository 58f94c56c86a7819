use secure_tool::{Reject, secure_tool};

/// Doubles.
#[secure_tool(public, max = 1e6)]
fn double(a: f64) -> f64 {
    a * 2.0
}

fn main() {
    let _: Option<Reject> = None;
}
