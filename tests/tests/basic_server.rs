//! basic-server through a real rmcp client over an in-memory transport: every
//! case of the three-gate contract, plus the near misses an attacker tries first.

use basic_server::BasicServer;
use rmcp::model::CallToolResult;
use secure_tool::Server;
use secure_tool::testing::Capture;
use secure_tool_tests::{Client, call, connect, text};
use serde_json::{Value, json};

/// Runs `f` against a fresh server with WARNING lines captured.
async fn with_server<F, Fut, T>(f: F) -> (T, Capture)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = T>,
{
    let capture = Capture::default();
    let _guard = capture.enter();
    let client = connect(Server::new(BasicServer)).await;
    let out = f(client).await;
    (out, capture)
}

#[track_caller]
fn assert_rejected(result: &CallToolResult, gate: &str, field: &str) {
    assert_eq!(
        result.is_error,
        Some(true),
        "expected a rejection, got {result:?}"
    );
    let expected = format!("rejected by {gate} gate: {field}: ");
    assert!(
        text(result).starts_with(&expected),
        "expected `{expected}…`, got `{}`",
        text(result)
    );
}

#[track_caller]
fn assert_result(result: &CallToolResult, value: f64) {
    assert_eq!(
        result.is_error,
        Some(false),
        "expected success, got {}",
        text(result)
    );
    assert_eq!(result.structured_content, Some(json!({ "result": value })));
    assert_eq!(text(result), value.to_string());
}

/// One rejected call: the reply names gate and field, and exactly one WARNING
/// line naming server, tool, gate and field reaches the log.
async fn rejected(tool: &str, args: Value, gate: &str, field: &str) {
    let (result, capture) =
        with_server(|client| async move { call(&client, tool, args).await }).await;
    assert_rejected(&result, gate, field);
    let warnings = capture.warnings();
    assert_eq!(warnings.len(), 1, "expected one WARNING, got {warnings:?}");
    // An unknown tool has no declared name to show; its name is the escaped value.
    let shown = if gate == "unknown-tool" { "-" } else { tool };
    let prefix =
        format!("rejected server=basic-server tool={shown} gate={gate} field={field} reason=");
    assert!(
        warnings[0].starts_with(&prefix),
        "{} does not start with {prefix}",
        warnings[0]
    );
}

#[tokio::test]
async fn seed_pow_is_outside_the_allowlist() {
    rejected(
        "compute",
        json!({"op": "pow", "a": 2, "b": 10}),
        "allowlist",
        "op",
    )
    .await;
}

#[tokio::test]
async fn seed_division_by_zero_is_refused_by_the_body() {
    rejected(
        "compute",
        json!({"op": "div", "a": 1, "b": 0}),
        "execute",
        "b",
    )
    .await;
}

#[tokio::test]
async fn seed_operand_above_the_limit() {
    rejected(
        "compute",
        json!({"op": "add", "a": 1e10, "b": 1}),
        "range",
        "a",
    )
    .await;
}

#[tokio::test]
async fn seed_boolean_is_not_a_number() {
    rejected(
        "compute",
        json!({"op": "add", "a": true, "b": 1}),
        "type",
        "a",
    )
    .await;
}

#[tokio::test]
async fn seed_ansi_escape_in_echo() {
    rejected(
        "echo",
        json!({"text": "hi\u{1b}[31mred"}),
        "control-chars",
        "text",
    )
    .await;
}

#[tokio::test]
async fn allowlist_is_exact_and_case_sensitive() {
    for op in ["ADD", "add ", "", " add", "Add", "add\u{0}"] {
        rejected(
            "compute",
            json!({"op": op, "a": 1, "b": 1}),
            "allowlist",
            "op",
        )
        .await;
    }
}

#[tokio::test]
async fn operands_are_bounded_on_both_sides() {
    rejected(
        "compute",
        json!({"op": "add", "a": -1e10, "b": 1}),
        "range",
        "a",
    )
    .await;
    rejected(
        "compute",
        json!({"op": "add", "a": 1000000000.5, "b": 1}),
        "range",
        "a",
    )
    .await;
    rejected(
        "compute",
        json!({"op": "add", "a": 1, "b": -1000000000.5}),
        "range",
        "b",
    )
    .await;
}

#[tokio::test]
async fn strings_are_not_numbers() {
    rejected(
        "compute",
        json!({"op": "add", "a": "1", "b": 1}),
        "type",
        "a",
    )
    .await;
    rejected(
        "compute",
        json!({"op": "add", "a": 1, "b": null}),
        "type",
        "b",
    )
    .await;
    rejected("compute", json!({"op": 1, "a": 1, "b": 1}), "type", "op").await;
}

#[tokio::test]
async fn unknown_and_missing_fields_are_named() {
    rejected(
        "compute",
        json!({"op": "add", "a": 1, "b": 1, "c": 1}),
        "unknown-field",
        "c",
    )
    .await;
    rejected(
        "compute",
        json!({"op": "add", "a": 1}),
        "missing-field",
        "b",
    )
    .await;
    rejected("echo", json!({}), "missing-field", "text").await;
}

#[tokio::test]
async fn unknown_tool_is_refused_and_logged() {
    rejected("eval", json!({}), "unknown-tool", "name").await;
}

#[tokio::test]
async fn echo_refuses_bidi_overrides_and_oversized_text() {
    rejected(
        "echo",
        json!({"text": "abc\u{202e}cba"}),
        "control-chars",
        "text",
    )
    .await;
    rejected(
        "echo",
        json!({"text": "x".repeat(100_000)}),
        "length",
        "text",
    )
    .await;
}

#[tokio::test]
async fn an_oversized_argument_cannot_flood_the_log() {
    let ((), capture) = with_server(|client| async move {
        let huge = "\u{1b}".repeat(100_000);
        call(&client, "echo", json!({ "text": huge })).await;
    })
    .await;
    let warnings = capture.warnings();
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].len() < 512,
        "log line of {} bytes",
        warnings[0].len()
    );
    assert!(
        !warnings[0].contains('\u{1b}'),
        "raw control byte in log line"
    );
}

#[tokio::test]
async fn accepted_calls_and_boundaries() {
    let ((), capture) = with_server(|client| async move {
        assert_result(
            &call(&client, "compute", json!({"op": "add", "a": 2, "b": 3})).await,
            5.0,
        );
        assert_result(
            &call(&client, "compute", json!({"op": "sub", "a": 2, "b": 3})).await,
            -1.0,
        );
        assert_result(
            &call(&client, "compute", json!({"op": "mul", "a": 2.5, "b": 4})).await,
            10.0,
        );
        assert_result(
            &call(&client, "compute", json!({"op": "div", "a": 1, "b": 4})).await,
            0.25,
        );
        assert_result(
            &call(
                &client,
                "compute",
                json!({"op": "add", "a": 1e9, "b": -1e9}),
            )
            .await,
            0.0,
        );
        assert_result(
            &call(
                &client,
                "compute",
                json!({"op": "mul", "a": -1e9, "b": 1e9}),
            )
            .await,
            -1e18,
        );
        let echoed = call(&client, "echo", json!({"text": "line one\n\ttabbed"})).await;
        assert_eq!(echoed.is_error, Some(false));
        assert_eq!(text(&echoed), "line one\n\ttabbed");
    })
    .await;
    assert_eq!(
        capture.warnings(),
        Vec::<String>::new(),
        "accepted calls log no WARNING"
    );
}

#[tokio::test]
async fn results_that_json_cannot_carry_are_refused() {
    // 1e9 / 1e-300 overflows to infinity; JSON cannot carry it and `null` would lie.
    rejected(
        "compute",
        json!({"op": "div", "a": 1e9, "b": 1e-300}),
        "output",
        "result",
    )
    .await;
}

#[tokio::test]
async fn the_list_carries_the_tool_manifest() {
    use secure_tool::manifest::{Manifest, SERVER_KEY, TOOL_KEY};
    with_server(|client| async move {
        let manifest = Manifest::of::<BasicServer>();
        let listed = client.list_tools(None).await.unwrap();
        let meta = listed.meta.expect("the result's _meta").0;
        assert_eq!(
            meta[SERVER_KEY]["fingerprint"],
            manifest.fingerprint.as_str()
        );
        assert_eq!(meta[SERVER_KEY]["server"], "basic-server");
        // Tool names are on the entries a caller may see, not in the summary.
        assert!(meta[SERVER_KEY].get("tools").is_none());
        assert_eq!(listed.tools.len(), manifest.tools.len());
        for tool in &listed.tools {
            let meta = &tool.meta.as_ref().expect("the tool's _meta").0;
            assert_eq!(meta[TOOL_KEY].as_str(), manifest.tool(&tool.name));
        }
    })
    .await;
}

#[tokio::test]
async fn the_listed_schema_states_every_gate() {
    with_server(|client| async move {
        let tools = client.list_all_tools().await.unwrap();
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(names, ["compute", "echo"]);

        let compute = Value::Object((*tools[0].input_schema).clone());
        assert_eq!(compute["additionalProperties"], json!(false));
        assert_eq!(compute["required"], json!(["op", "a", "b"]));
        assert_eq!(
            compute["properties"]["op"]["enum"],
            json!(["add", "sub", "mul", "div"])
        );
        for field in ["a", "b"] {
            assert_eq!(compute["properties"][field]["type"], json!("number"));
            assert_eq!(compute["properties"][field]["minimum"], json!(-1e9));
            assert_eq!(compute["properties"][field]["maximum"], json!(1e9));
        }
        assert_eq!(
            tools[0].description.as_deref(),
            Some("Four-operation calculator over bounded, finite operands.")
        );
        let output = Value::Object((**tools[0].output_schema.as_ref().unwrap()).clone());
        assert_eq!(output["properties"]["result"]["type"], json!("number"));

        let echo = Value::Object((*tools[1].input_schema).clone());
        assert_eq!(
            echo["properties"]["text"]["maxLength"],
            json!(secure_tool::spec::DEFAULT_MAX_LEN)
        );
        assert_eq!(echo["additionalProperties"], json!(false));
        let annotations = tools[1].annotations.as_ref().unwrap();
        assert_eq!(annotations.destructive_hint, Some(false));
    })
    .await;
}
