//! The binary checks its configuration before it touches the database.

use std::process::Command;

#[test]
fn a_missing_jwt_setting_fails_before_any_database_file_exists() {
    let dir = std::env::temp_dir().join(format!("template-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("template.db");
    let output = Command::new(env!("CARGO_BIN_EXE_template-server"))
        .env_remove("TEMPLATE_JWT_ISSUER")
        .env_remove("TEMPLATE_JWT_SECRET")
        .env_remove("TEMPLATE_JWT_KEY_FILE")
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("TEMPLATE_JWT_ISSUER is not set"),
        "{stderr}"
    );
    assert!(!db.exists(), "the database file was created");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--dev`: the printed token calls the tool, with no JWT settings and no grants.
#[test]
fn development_mode_prints_a_token_that_calls_every_tool() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;

    let dir = std::env::temp_dir().join(format!("template-dev-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_template-server"))
        .arg("--dev")
        .env_remove("TEMPLATE_JWT_ISSUER")
        .env_remove("TEMPLATE_JWT_SECRET")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("t.db").display()),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let token = line
        .split("token ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no token in {line:?}"))
        .to_owned();
    assert!(token.starts_with("dev-"), "{line}");

    let mut stdin = child.stdin.take().unwrap();
    let call = serde_json::json!({
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "convert", "arguments": {"token": token, "to": "celsius", "value": 212.0}}
    });
    let forged = serde_json::json!({
        "jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "convert", "arguments": {"token": "dev-guess", "to": "celsius", "value": 1.0}}
    });
    for message in [
        serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "test", "version": "0"}}}),
        serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        call,
        forged,
    ] {
        writeln!(stdin, "{message}").unwrap();
    }
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut answers = std::collections::BTreeMap::new();
    while answers.len() < 3 {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "stdout closed");
        let reply: serde_json::Value = serde_json::from_str(&line).unwrap();
        if let Some(id) = reply["id"].as_i64() {
            answers.insert(id, reply);
        }
    }
    drop(stdin);
    let _ = child.wait();
    assert_eq!(answers[&2]["result"]["isError"], false, "{}", answers[&2]);
    assert_eq!(answers[&2]["result"]["content"][0]["text"], "100");
    assert_eq!(answers[&3]["result"]["isError"], true, "{}", answers[&3]);
    std::fs::remove_dir_all(&dir).unwrap();
}
