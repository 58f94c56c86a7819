//! What the tool does when every gate passes: tests of your own logic. The
//! rejection tests of every gate are generated; these are the ones to write.

use secure_tool::audit::Outcome;
use secure_tool::testing::{TEST_TOKEN, test_server};
use template_server::TemplateServer;

#[tokio::test]
async fn converts_both_ways() {
    let server = test_server::<TemplateServer>().await;
    for (to, value, expected) in [
        ("celsius", 212.0, 100.0),
        ("fahrenheit", -40.0, -40.0),
        ("fahrenheit", 100.0, 212.0),
    ] {
        let args = serde_json::json!({"token": TEST_TOKEN, "to": to, "value": value});
        let trace = server
            .call("convert", args.as_object().unwrap().clone())
            .await;
        assert_eq!(trace.record.outcome, Outcome::Allowed, "{:?}", trace.result);
        assert_eq!(
            trace.result.structured_content,
            Some(serde_json::json!({ "result": expected }))
        );
    }
}
