//! The template: copy this crate to start a server. See `README.md`.

use secure_tool::{Reject, secure_tool, server};

/// Converts a temperature into the unit `to`, from the other one.
#[secure_tool(scope = "temperatures:convert", allow(to = ["celsius", "fahrenheit"]), max = 1e6)]
pub fn convert(to: Unit, value: f64) -> Result<f64, Reject> {
    match to {
        Unit::Celsius => Ok((value - 32.0) * 5.0 / 9.0),
        Unit::Fahrenheit => Ok(value * 9.0 / 5.0 + 32.0),
    }
}

server!(pub TemplateServer { convert });

/// The command that rewrites `threat_model.md` from the declarations above.
pub const REGENERATE_THREAT_MODEL: &str =
    "cargo run -q -p template-server -- threat-model > servers/template/threat_model.md";
