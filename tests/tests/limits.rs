//! Bounds on what one caller can cost: the per-call timeout, rate limits, and
//! the bound on rejection logging under a flood.

use std::time::Duration;

use secure_tool::audit::Outcome;
use secure_tool::log::{FLOOD_LINES, FLOOD_WINDOW};
use secure_tool::testing::Capture;
use secure_tool::{Gate, Rate, Server};
use secure_tool_tests::patient::Patient;
use serde_json::{Value, json};

fn args(value: Value) -> secure_tool::server::Arguments {
    value.as_object().expect("an object").clone()
}

// Time is paused: the runtime jumps to the next timer, so an hour-long sleep
// costs nothing and the timeout fires exactly when it is due.
#[tokio::test(start_paused = true)]
async fn a_body_that_outlives_the_call_timeout_is_cancelled() {
    let server = Server::new(Patient).with_call_timeout(Duration::from_secs(5));
    let quick = server.call("slow", args(json!({"secs": 1}))).await;
    assert_eq!(quick.record.outcome, Outcome::Allowed);

    let hung = server.call("slow", args(json!({"secs": 3600}))).await;
    assert!(hung.executed, "the body started");
    assert_eq!(hung.record.gate, Some(Gate::Timeout.as_str()));
    assert_eq!(hung.record.outcome, Outcome::Failed);
    let text = format!("{:?}", hung.result.content);
    assert!(
        text.contains("did not finish within 5.0 s and was cancelled"),
        "{text}"
    );
}

#[tokio::test]
async fn a_caller_over_the_subject_rate_is_refused_before_the_body() {
    let server =
        Server::new(Patient).with_subject_rate(Some(Rate::new(5, Duration::from_secs(3600))));
    for _ in 0..5 {
        let ok = server.call("echo", args(json!({"text": "hi"}))).await;
        assert_eq!(ok.record.outcome, Outcome::Allowed);
    }
    let refused = server.call("echo", args(json!({"text": "hi"}))).await;
    assert!(!refused.executed);
    assert_eq!(refused.record.gate, Some(Gate::Rate.as_str()));
    assert_eq!(refused.record.outcome, Outcome::RateLimited);
    let reason = refused.record.reason.clone().unwrap_or_default();
    assert!(
        reason.starts_with("rate limit of 5/h for this caller exceeded; retry after"),
        "{reason}"
    );
    // Invalid calls count too: a flood of bad arguments is throttled alike.
    let bad = server.call("echo", args(json!({"text": 1}))).await;
    assert_eq!(bad.record.gate, Some(Gate::Rate.as_str()));
}

#[tokio::test(start_paused = true)]
async fn a_flood_of_refusals_prints_a_bounded_number_of_lines_then_a_summary() {
    let server = Server::new(Patient).with_subject_rate(None);
    let flood = 500;
    let capture = Capture::default();
    let _guard = capture.enter();
    for i in 0..flood {
        // Half carry an unknown field, half a number for the text.
        let call = if i % 2 == 0 {
            json!({"text": "x", "unknown": 1})
        } else {
            json!({"text": 1})
        };
        let trace = server.call("echo", args(call)).await;
        assert_eq!(trace.result.is_error, Some(true));
    }
    assert_eq!(
        capture.warnings().len(),
        FLOOD_LINES as usize,
        "only the first lines of a window are printed"
    );
    // When the window closes, one line reports what was not printed.
    tokio::time::sleep(FLOOD_WINDOW + Duration::from_secs(1)).await;
    let warnings = capture.warnings();
    assert_eq!(warnings.len(), FLOOD_LINES as usize + 1, "{warnings:#?}");
    let suppressed = flood - FLOOD_LINES as usize;
    let summary = warnings.last().unwrap();
    assert_eq!(
        summary,
        &format!(
            "rejection flood: {suppressed} more refusal(s) in 10 s not printed, by gate: type={} unknown-field={}; each is still audited",
            suppressed / 2,
            suppressed / 2
        )
    );
    // The next window prints again.
    server.call("echo", args(json!({"text": 1}))).await;
    assert_eq!(capture.warnings().len(), FLOOD_LINES as usize + 2);
}

#[tokio::test(start_paused = true)]
async fn settling_at_shutdown_prints_the_summary_of_an_open_window() {
    let server = Server::new(Patient).with_subject_rate(None);
    let capture = Capture::default();
    let _guard = capture.enter();
    for _ in 0..FLOOD_LINES + 3 {
        server.call("echo", args(json!({"text": 1}))).await;
    }
    assert_eq!(capture.warnings().len(), FLOOD_LINES as usize);
    // A burst, then an exit before the window closes: nothing is lost.
    server.pipeline().settle_audit().await.unwrap();
    let warnings = capture.warnings();
    assert_eq!(
        warnings.last().map(String::as_str),
        Some(
            "rejection flood: 3 more refusal(s) in 10 s not printed, by gate: type=3; each is still audited"
        ),
        "{warnings:#?}"
    );
    // Told once.
    server.pipeline().settle_audit().await.unwrap();
    assert_eq!(capture.warnings().len(), FLOOD_LINES as usize + 1);
}
