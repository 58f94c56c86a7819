//! The reference server: two tools that do nothing interesting, so that every
//! gate has something concrete to refuse.

use secure_tool::{Reject, secure_tool, server};

/// Four-operation calculator over bounded, finite operands.
#[secure_tool(allow = ["add", "sub", "mul", "div"], max = 1e9, public)]
pub fn compute(op: Op, a: f64, b: f64) -> Result<f64, Reject> {
    match op {
        Op::Add => Ok(a + b),
        Op::Sub => Ok(a - b),
        Op::Mul => Ok(a * b),
        Op::Div if b == 0.0 => Err(Reject::field("b", "division by zero")),
        Op::Div => Ok(a / b),
    }
}

/// Returns the text unchanged. Control characters are refused before it runs.
#[secure_tool(public)]
pub fn echo(text: String) -> Result<String, Reject> {
    Ok(text)
}

server!(pub BasicServer { compute, echo });

/// The command that rewrites `threat_model.md` from the declarations above.
pub const REGENERATE_THREAT_MODEL: &str =
    "cargo run -q -p basic-server -- threat-model > servers/basic/threat_model.md";
