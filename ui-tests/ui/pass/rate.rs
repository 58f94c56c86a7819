use secure_tool::{Rate, Reject, secure_tool};

/// Limited to 30 calls a minute per caller.
#[secure_tool(public, rate = "30/min")]
fn limited(text: String) -> Result<String, Reject> {
    Ok(text)
}

fn main() {
    assert_eq!(
        limited::__SECURE_TOOL_SPEC.rate,
        Some(Rate::new(30, std::time::Duration::from_secs(60)))
    );
    assert!(
        limited::__SECURE_TOOL_SPEC
            .tests
            .iter()
            .any(|t| t.name == "rejects_calls_over_rate_limit")
    );
}
