//! Doc comments with code blocks become the tool description verbatim.
use secure_tool::{Reject, secure_tool, server};
use secure_tool::server::Tools;

/// Doubles a number.
///
/// ```
/// assert_eq!(2 * 2, 4);
/// ```
///
/// Braces { } and "quotes" survive.
#[secure_tool(max = 100, public)]
fn double(x: f64) -> Result<f64, Reject> {
    Ok(x * 2.0)
}

server!(Doubler { double });

fn main() {
    let description = Doubler::TOOLS[0].description;
    assert!(description.starts_with("Doubles a number.\n\n```\nassert_eq!(2 * 2, 4);\n```"));
    assert!(description.ends_with("Braces { } and \"quotes\" survive."));
}
