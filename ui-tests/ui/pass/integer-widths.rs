//! Every supported integer width, with bounds that each type can hold.
use secure_tool::{Reject, secure_tool, server};
use secure_tool::server::Tools;
use secure_tool::spec::Kind;

/// Sums integers of every width.
#[secure_tool(min(a = -128), max(h = 18446744073709551615), public)]
#[allow(clippy::too_many_arguments)]
fn widths(a: i8, b: i16, c: i32, d: i64, e: u8, f: u16, g: u32, h: u64) -> Result<i64, Reject> {
    let _ = (f, g, h);
    Ok(i64::from(a) + i64::from(b) + i64::from(c) + d + i64::from(e))
}

server!(Widths { widths });

fn main() {
    let spec = Widths::TOOLS[0];
    match spec.params[7].kind {
        Kind::Int { ty, min, max } => {
            assert_eq!(ty, "u64");
            assert_eq!((min, max), (0, i128::from(u64::MAX)));
        }
        _ => panic!("h is an integer"),
    }
}
