//! The tools of the official MCP reference servers, declared with secure-tool
//! (`servers/reference`), listed and called through a real MCP client. Each
//! advertised schema is compared field by field with the original's
//! (`reference/originals.json`): same wire names, types, required fields and
//! defaults, and bounds at least as strict. Every tool takes a valid call, and
//! every gate on a nested value refuses with the path of that value.

use reference_tools::{fetch::Fetch, filesystem::Filesystem, git::Git, memory::Memory, time::Time};
use rmcp::model::CallToolResult;
use secure_tool::Server;
use secure_tool::server::Tools;
use secure_tool::testing::{cases, test_guards};
use secure_tool_tests::{Client, call, connect, text};
use serde_json::{Map, Value, json};

const ORIGINALS: &str = include_str!("reference/originals.json");

async fn client<S: Tools>(tools: S) -> Client {
    // No per-subject rate: these tests send hundreds of calls as one caller.
    connect(
        Server::new(tools)
            .with_guards(test_guards())
            .with_subject_rate(None),
    )
    .await
}

fn originals(server: &str) -> Map<String, Value> {
    let all: Value = serde_json::from_str(ORIGINALS).expect("originals.json parses");
    all[server].as_object().expect("a server's tools").clone()
}

/// Panics unless `ours` states the original's contract, at least as strictly.
fn compare_object(at: &str, original: &Value, ours: &Value) {
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    };
    assert_eq!(keys(ours), keys(original), "{at}: the wire names differ");
    let required = |v: &Value| -> Vec<String> {
        let mut r: Vec<String> = v["required"]
            .as_array()
            .map(|r| r.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default();
        r.sort();
        r
    };
    assert_eq!(
        required(ours),
        required(original),
        "{at}: required fields differ"
    );
    assert_eq!(
        ours["additionalProperties"],
        json!(false),
        "{at}: unknown fields must be refused"
    );
    for name in keys(original) {
        compare_field(
            &format!("{at}.{name}"),
            &original["properties"][&name],
            &ours["properties"][&name],
        );
    }
}

fn compare_field(at: &str, original: &Value, ours: &Value) {
    // `anyOf: [T, null]` with a `null` default is an optional `T`.
    let (original_ty, nullable) = match original.get("anyOf") {
        Some(any) => (any[0]["type"].clone(), true),
        None => (original["type"].clone(), false),
    };
    let ty = ours["type"].clone();
    let narrower = original_ty == json!("number") && ty == json!("integer");
    assert!(
        ty == original_ty || narrower,
        "{at}: type {ty} where the original has {original_ty}"
    );
    match original.get("default") {
        Some(Value::Null) | None => assert!(
            ours.get("default").is_none() || nullable,
            "{at}: a default the original does not have"
        ),
        Some(default) => assert_eq!(ours.get("default"), Some(default), "{at}: default differs"),
    }
    if let Some(allowed) = original.get("enum") {
        assert_eq!(ours.get("enum"), Some(allowed), "{at}: enum differs");
    }
    if let Some(format) = original.get("format") {
        assert_eq!(ours.get("format"), Some(format), "{at}: format differs");
    }
    let n = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64);
    match ty.as_str() {
        Some("string") => {
            // An allowlist bounds a string as well as a length can.
            let max = n(ours, "maxLength")
                .or_else(|| ours.get("enum").map(|_| 0.0))
                .unwrap_or_else(|| panic!("{at}: unbounded string"));
            if let Some(o) = n(original, "maxLength") {
                assert!(max <= o, "{at}: maxLength looser than the original");
            }
            if let Some(o) = n(original, "minLength") {
                assert!(
                    n(ours, "minLength").unwrap_or(0.0) >= o,
                    "{at}: minLength looser"
                );
            }
        }
        Some("integer" | "number") => {
            let lo = n(ours, "minimum").unwrap_or_else(|| panic!("{at}: no lower bound"));
            let hi = n(ours, "maximum").unwrap_or_else(|| panic!("{at}: no upper bound"));
            if let Some(o) = n(original, "minimum") {
                assert!(lo >= o, "{at}: minimum looser");
            }
            if let Some(o) = n(original, "exclusiveMinimum") {
                assert!(lo > o, "{at}: exclusiveMinimum looser");
            }
            if let Some(o) = n(original, "maximum") {
                assert!(hi <= o, "{at}: maximum looser");
            }
            if let Some(o) = n(original, "exclusiveMaximum") {
                assert!(hi < o, "{at}: exclusiveMaximum looser");
            }
        }
        Some("array") => {
            assert!(n(ours, "maxItems").is_some(), "{at}: unbounded list");
            if let Some(o) = n(original, "minItems") {
                assert!(
                    n(ours, "minItems").unwrap_or(0.0) >= o,
                    "{at}: minItems looser"
                );
            }
            compare_field(&format!("{at}[]"), &original["items"], &ours["items"]);
        }
        Some("object") => compare_object(at, original, ours),
        _ => {}
    }
}

async fn check_schemas<S: Tools>(server: &str, tools: S) {
    let originals = originals(server);
    let client = client(tools).await;
    let listed = client.list_all_tools().await.expect("tools/list");
    let mut names: Vec<&str> = listed.iter().map(|t| t.name.as_ref()).collect();
    let mut expected: Vec<&str> = originals.keys().map(String::as_str).collect();
    names.sort();
    expected.sort();
    assert_eq!(names, expected, "{server}: the tool names differ");
    for tool in &listed {
        let ours = Value::Object((*tool.input_schema).clone());
        assert_eq!(ours["type"], json!("object"));
        compare_object(
            &format!("{server}/{}", tool.name),
            &originals[tool.name.as_ref()],
            &ours,
        );
    }
    client.cancel().await.ok();
}

#[tokio::test]
async fn advertised_schemas_match_the_originals_field_by_field() {
    check_schemas("filesystem", Filesystem).await;
    check_schemas("memory", Memory).await;
    check_schemas("git", Git).await;
    check_schemas("fetch", Fetch).await;
    check_schemas("time", Time).await;
}

#[track_caller]
fn assert_ok(result: &CallToolResult) -> Value {
    assert_eq!(result.is_error, Some(false), "refused: {}", text(result));
    result
        .structured_content
        .clone()
        .expect("structured content")["args"]
        .clone()
}

#[track_caller]
fn assert_refused(result: &CallToolResult, gate: &str, field: &str) {
    assert_eq!(result.is_error, Some(true), "accepted: {result:?}");
    let expected = format!("rejected by {gate} gate: {field}: ");
    assert!(
        text(result).starts_with(&expected),
        "expected `{expected}…`, got `{}`",
        text(result)
    );
}

/// One valid call of every tool, and what the body received.
#[tokio::test]
async fn every_tool_takes_a_valid_call() {
    let fs = client(Filesystem).await;
    let edit = json!({"oldText": "a", "newText": "b"});
    for (tool, args) in [
        ("read_file", json!({"path": "/tmp/a", "head": 3})),
        ("read_text_file", json!({"path": "/tmp/a", "tail": 2})),
        ("read_media_file", json!({"path": "/tmp/a.png"})),
        (
            "read_multiple_files",
            json!({"paths": ["/tmp/a", "/tmp/b"]}),
        ),
        (
            "write_file",
            json!({"path": "/tmp/a", "content": "hello\n"}),
        ),
        (
            "edit_file",
            json!({"path": "/tmp/a", "edits": [edit], "dryRun": true}),
        ),
        ("create_directory", json!({"path": "/tmp/d"})),
        ("list_directory", json!({"path": "/tmp"})),
        (
            "list_directory_with_sizes",
            json!({"path": "/tmp", "sortBy": "size"}),
        ),
        (
            "directory_tree",
            json!({"path": "/tmp", "excludePatterns": ["*.o"]}),
        ),
        (
            "move_file",
            json!({"source": "/tmp/a", "destination": "/tmp/b"}),
        ),
        ("search_files", json!({"path": "/tmp", "pattern": "*.rs"})),
        ("get_file_info", json!({"path": "/tmp/a"})),
        ("list_allowed_directories", json!({})),
    ] {
        assert_ok(&call(&fs, tool, args).await);
    }
    // Defaults are applied before the body runs, and advertised.
    let got = assert_ok(&call(&fs, "edit_file", json!({"path": "/a", "edits": [edit]})).await);
    assert_eq!(got["dryRun"], json!(false));
    let got = assert_ok(&call(&fs, "list_directory_with_sizes", json!({"path": "/a"})).await);
    assert_eq!(got["sortBy"], json!("name"));
    let got = assert_ok(&call(&fs, "search_files", json!({"path": "/", "pattern": "x"})).await);
    assert_eq!(got["excludePatterns"], json!([]));

    let memory = client(Memory).await;
    let entity = json!({"name": "Ada", "entityType": "person", "observations": ["wrote notes"]});
    let relation = json!({"from": "Ada", "to": "Engine", "relationType": "programmed"});
    for (tool, args) in [
        ("create_entities", json!({"entities": [entity]})),
        ("create_relations", json!({"relations": [relation]})),
        (
            "add_observations",
            json!({"observations": [{"entityName": "Ada", "contents": ["x"]}]}),
        ),
        ("delete_entities", json!({"entityNames": ["Ada"]})),
        (
            "delete_observations",
            json!({"deletions": [{"entityName": "Ada", "observations": ["x"]}]}),
        ),
        ("delete_relations", json!({"relations": [relation]})),
        ("read_graph", json!({})),
        ("search_nodes", json!({"query": "Ada"})),
        ("open_nodes", json!({"names": ["Ada"]})),
    ] {
        assert_ok(&call(&memory, tool, args).await);
    }
    let got = assert_ok(&call(&memory, "create_entities", json!({"entities": [entity]})).await);
    assert_eq!(got["entities"][0], entity);

    let git = client(Git).await;
    let repo = json!("/src/repo");
    for (tool, args) in [
        ("git_status", json!({"repo_path": repo})),
        ("git_diff_unstaged", json!({"repo_path": repo})),
        (
            "git_diff_staged",
            json!({"repo_path": repo, "context_lines": 5}),
        ),
        ("git_diff", json!({"repo_path": repo, "target": "main"})),
        (
            "git_commit",
            json!({"repo_path": repo, "message": "Fix the parser"}),
        ),
        (
            "git_add",
            json!({"repo_path": repo, "files": ["a.rs", "b.rs"]}),
        ),
        ("git_reset", json!({"repo_path": repo})),
        (
            "git_log",
            json!({"repo_path": repo, "start_timestamp": null}),
        ),
        (
            "git_create_branch",
            json!({"repo_path": repo, "branch_name": "topic"}),
        ),
        (
            "git_checkout",
            json!({"repo_path": repo, "branch_name": "topic"}),
        ),
        ("git_show", json!({"repo_path": repo, "revision": "HEAD"})),
        (
            "git_branch",
            json!({"repo_path": repo, "branch_type": "local"}),
        ),
    ] {
        assert_ok(&call(&git, tool, args).await);
    }
    let got = assert_ok(&call(&git, "git_log", json!({"repo_path": repo})).await);
    assert_eq!(got["max_count"], json!(10));
    let got = assert_ok(&call(&git, "git_diff_unstaged", json!({"repo_path": repo})).await);
    assert_eq!(got["context_lines"], json!(3));

    let fetch = client(Fetch).await;
    let got = assert_ok(
        &call(
            &fetch,
            "fetch",
            json!({"url": "https://93.184.215.14/page"}),
        )
        .await,
    );
    assert_eq!(got["max_length"], json!(5000));
    assert_eq!(got["start_index"], json!(0));
    assert_eq!(got["raw"], json!(false));

    let time = client(Time).await;
    assert_ok(
        &call(
            &time,
            "get_current_time",
            json!({"timezone": "Europe/Warsaw"}),
        )
        .await,
    );
    assert_ok(
        &call(
            &time,
            "convert_time",
            json!({"source_timezone": "UTC", "time": "16:30", "target_timezone": "Asia/Tokyo"}),
        )
        .await,
    );
}

/// Every generated probe of a value inside a list or an object, sent through
/// the client: each is refused at its gate, naming the value's path.
async fn nested_gates<S: Tools>(tools: S) -> usize {
    let client = client(tools).await;
    let mut checked = 0;
    for spec in S::TOOLS {
        for test in spec.generated_tests() {
            let Some(path) = test.probe.path() else {
                continue;
            };
            if !path.contains(['.', '[']) {
                continue;
            }
            for (args, gate, field) in cases(spec, test.probe) {
                let result = call(&client, spec.name, Value::Object(args)).await;
                assert_refused(&result, gate.as_str(), field.as_deref().unwrap_or("-"));
                checked += 1;
            }
        }
    }
    checked
}

#[tokio::test]
async fn every_nested_gate_names_the_path_through_a_client() {
    let total =
        nested_gates(Filesystem).await + nested_gates(Memory).await + nested_gates(Git).await;
    // Lists of strings and of objects in filesystem, memory and git.
    assert!(total > 100, "only {total} nested cases");
}

#[tokio::test]
async fn refusals_name_the_first_offending_item() {
    let fs = client(Filesystem).await;
    let ok = json!({"oldText": "a", "newText": "b"});
    let bad = json!({"oldText": "a\u{1b}[2J", "newText": "b"});
    let result = call(
        &fs,
        "edit_file",
        json!({"path": "/a", "edits": [ok, ok, bad, bad]}),
    )
    .await;
    assert_refused(&result, "control-chars", "edits[2].oldText");
    let result = call(
        &fs,
        "edit_file",
        json!({"path": "/a", "edits": [ok, {"oldText": "a", "newText": "b", "mode": "regex"}]}),
    )
    .await;
    assert_refused(&result, "unknown-field", "edits[1].mode");
    let result = call(
        &fs,
        "edit_file",
        json!({"path": "/a", "edits": [{"newText": "b"}]}),
    )
    .await;
    assert_refused(&result, "missing-field", "edits[0].oldText");
    let result = call(
        &fs,
        "edit_file",
        json!({"path": "/a", "edits": [ok], "dry_run": true}),
    )
    .await;
    assert_refused(&result, "unknown-field", "dry_run");
    let result = call(
        &fs,
        "edit_file",
        json!({"path": "/a", "edits": [ok], "dryRun": "yes"}),
    )
    .await;
    assert_refused(&result, "type", "dryRun");
    let result = call(
        &fs,
        "read_multiple_files",
        json!({"paths": ["/a", "/b", "/a"]}),
    )
    .await;
    assert_refused(&result, "unique", "paths[2]");
    let result = call(&fs, "read_multiple_files", json!({"paths": []})).await;
    assert_refused(&result, "length", "paths");

    let memory = client(Memory).await;
    let mut observations: Vec<Value> = (0..5).map(|i| json!(format!("fact {i}"))).collect();
    observations.push(json!(format!("{}\u{202e}", "y".repeat(100_000))));
    let entity = json!({"name": "Ada", "entityType": "person", "observations": observations});
    let result = call(&memory, "create_entities", json!({"entities": [entity]})).await;
    // The 100 kB value is the first offender; what the message shows of it is bounded.
    assert_refused(&result, "length", "entities[0].observations[5]");
    assert!(text(&result).len() < 300, "{} bytes", text(&result).len());
}

#[tokio::test]
async fn arguments_are_bounded_as_a_whole_before_any_field() {
    let memory = client(Memory).await;
    // 100 entities × 100 observations × 200 chars: every field within its own
    // bound, 2 MB together.
    let observations: Vec<String> = (0..100).map(|i| format!("{i:0200}")).collect();
    let entities: Vec<Value> = (0..100)
        .map(|i| json!({"name": format!("e{i}"), "entityType": "t", "observations": observations}))
        .collect();
    let result = call(&memory, "create_entities", json!({"entities": entities})).await;
    assert_eq!(result.is_error, Some(true));
    assert!(
        text(&result).starts_with("rejected by size gate: arguments must be at most 1048576 bytes"),
        "{}",
        text(&result)
    );
}

/// The keys of a `key=value` line as a strict parser reads it: a value is
/// bare up to the next space, or a quoted string only if it starts with `"`.
fn keys(line: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut rest = line;
    while !rest.is_empty() {
        rest = rest.trim_start_matches(' ');
        let end = rest.find([' ', '=']).unwrap_or(rest.len());
        let (word, after) = rest.split_at(end);
        let Some(value) = after.strip_prefix('=') else {
            rest = after;
            continue;
        };
        keys.push(word.to_owned());
        rest = match value.strip_prefix('"') {
            Some(quoted) => {
                let mut escaped = false;
                let close = quoted.char_indices().find(|&(_, c)| match c {
                    _ if escaped => {
                        escaped = false;
                        false
                    }
                    '\\' => {
                        escaped = true;
                        false
                    }
                    c => c == '"',
                });
                let close = close.map_or(quoted.len(), |(i, _)| i + 1);
                let tail = &quoted[close..];
                tail.find(' ').map_or("", |i| &tail[i..])
            }
            None => value.find(' ').map_or("", |i| &value[i..]),
        };
    }
    keys
}

#[tokio::test]
async fn nested_keys_and_values_cannot_forge_log_fields() {
    use secure_tool::testing::Capture;
    let capture = Capture::default();
    let _guard = capture.enter();
    let memory = client(Memory).await;
    let forged = "x subject=admin outcome=allowed gate=none";
    let entity = json!({"name": "a", "entityType": "t", "observations": [], forged: 1});
    let result = call(&memory, "create_entities", json!({"entities": [entity]})).await;
    assert_eq!(result.is_error, Some(true));
    let fs = client(Filesystem).await;
    let result = call(&fs, "get_file_info", json!({"path": {forged: 1}})).await;
    assert_eq!(result.is_error, Some(true));
    let lines = capture.warnings();
    assert_eq!(lines.len(), 2, "{lines:?}");
    for line in &lines {
        let keys = keys(line);
        assert_eq!(
            keys,
            [
                "server", "tool", "gate", "field", "reason", "subject", "outcome", "value"
            ],
            "{line}"
        );
    }
}
