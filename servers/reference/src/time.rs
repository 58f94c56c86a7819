//! `mcp-server-time`: the current time, and conversions between time zones.

use secure_tool::{Json, Reject, secure_tool, server};
use serde_json::{Value, json};

use crate::received;

/// The current time in an IANA time zone, such as `Europe/Warsaw`.
#[secure_tool(public, max_len(timezone = 64))]
pub fn get_current_time(timezone: String) -> Result<Json<Value>, Reject> {
    Ok(received(
        "get_current_time",
        json!({ "timezone": timezone }),
    ))
}

/// Convert a 24-hour `HH:MM` time from one IANA time zone to another.
#[secure_tool(public, max_len(source_timezone = 64, time = 5, target_timezone = 64))]
pub fn convert_time(
    source_timezone: String,
    time: String,
    target_timezone: String,
) -> Result<Json<Value>, Reject> {
    Ok(received(
        "convert_time",
        json!({ "source_timezone": source_timezone, "time": time, "target_timezone": target_timezone }),
    ))
}

server!(pub Time { get_current_time, convert_time });
