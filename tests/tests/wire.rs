//! Frames no well-behaved client sends, written straight onto the transport.

use basic_server::BasicServer;
use rmcp::ServiceExt as _;
use secure_tool::Server;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

async fn exchange(frames: &[&str]) -> Vec<Value> {
    let (server_io, client_io) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        if let Ok(running) = Server::new(BasicServer).serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let (read, mut write) = tokio::io::split(client_io);
    let mut lines = BufReader::new(read).lines();
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}});
    write
        .write_all(format!("{init}\n").as_bytes())
        .await
        .unwrap();
    let mut replies =
        vec![serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap()];
    write
        .write_all(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n")
        .await
        .unwrap();
    for frame in frames {
        write.write_all(frame.as_bytes()).await.unwrap();
        write.write_all(b"\n").await.unwrap();
    }
    while replies.len() < 2 {
        let line = tokio::time::timeout(std::time::Duration::from_secs(5), lines.next_line())
            .await
            .expect("the server answers")
            .unwrap()
            .expect("the server keeps the connection open");
        replies.push(serde_json::from_str(&line).unwrap());
    }
    replies
}

#[tokio::test]
async fn non_finite_numbers_never_reach_a_tool() {
    // JSON has no NaN or Infinity and 1e400 overflows f64: such frames are not
    // JSON-RPC messages, so no tool runs; the server stays up and answers the next call.
    let replies = exchange(&[
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"compute","arguments":{"op":"add","a":NaN,"b":1}}}"#,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"compute","arguments":{"op":"add","a":1e400,"b":1}}}"#,
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"compute","arguments":{"op":"add","a":2,"b":2}}}"#,
    ])
    .await;
    let last = &replies[1];
    assert_eq!(
        last["id"],
        json!(3),
        "only the well-formed call is answered: {last}"
    );
    assert_eq!(last["result"]["structuredContent"], json!({"result": 4.0}));
}

#[tokio::test]
async fn a_call_whose_arguments_are_not_an_object_is_invalid_params_naming_the_field() {
    for (arguments, field) in [
        ("[1]", "arguments"),
        ("\"x\"", "arguments"),
        ("7", "arguments"),
    ] {
        let frame = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"echo","arguments":{arguments}}}}}"#
        );
        let replies = exchange(&[&frame]).await;
        let error = &replies[1]["error"];
        assert_eq!(error["code"], json!(-32602), "{arguments}: {}", replies[1]);
        assert_eq!(error["data"]["field"], json!(field), "{}", replies[1]);
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("must be an object"),
            "{error}"
        );
    }
    let replies =
        exchange(&[r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":5}}"#]).await;
    assert_eq!(replies[1]["error"]["code"], json!(-32602), "{}", replies[1]);
    assert_eq!(replies[1]["error"]["data"]["field"], json!("name"));
    // A method no one serves is still method-not-found.
    let replies = exchange(&[r#"{"jsonrpc":"2.0","id":1,"method":"nope/x","params":{}}"#]).await;
    assert_eq!(replies[1]["error"]["code"], json!(-32601), "{}", replies[1]);
}
