//! The command line: `--help` documents every option, and a wrong one is an
//! error that names it, before anything is served.

use std::process::{Command, Output};

/// The first message of every session these tests open.
const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"cli-test","version":"1"}}}"#;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_basic-server"))
        .args(args)
        .output()
        .expect("basic-server runs")
}

#[test]
fn help_lists_every_option_and_the_threat_model() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for option in [
        "--rate-limit",
        "--http",
        "--stateless",
        "--allowed-host",
        "--public-url",
        "--authorization-server",
        "--max-body-bytes",
        "threat-model",
        "manifest",
    ] {
        assert!(help.contains(option), "{option} missing from:\n{help}");
    }
}

#[test]
fn the_manifest_command_prints_the_fingerprints_the_server_publishes() {
    let out = run(&["manifest"]);
    assert!(out.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let manifest = secure_tool::manifest::Manifest::of::<basic_server::BasicServer>();
    assert_eq!(printed, manifest.to_json());
    assert_eq!(printed["tools"].as_object().unwrap().len(), 2);
}

#[test]
fn wrong_arguments_are_refused_by_name() {
    for (args, named) in [
        (&["--stateless"][..], "--http <ADDR>"),
        (&["--max-body-bytes", "4096"], "--http <ADDR>"),
        (&["--rate-limit", "10/x"], "'10/x'"),
        (
            &["--http", "127.0.0.1:0", "--max-body-bytes", "many"],
            "'many'",
        ),
        (&["--verbose"], "'--verbose'"),
    ] {
        let out = run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(named), "{args:?}: {stderr}");
    }
}

#[test]
fn a_refusal_over_stdio_is_one_warning_line_on_stderr() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;

    let mut child = Command::new(env!("CARGO_BIN_EXE_basic-server"))
        .env_remove("SECURE_TOOL_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("basic-server runs");
    let mut stdin = child.stdin.take().unwrap();
    for message in [
        INITIALIZE,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"compute","arguments":{"op":"pow\u001b[31m","a":1,"b":2}}}"#,
    ] {
        writeln!(stdin, "{message}").unwrap();
    }
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains(r#""id":2"#) {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "no answer to the call"
        );
    }
    assert!(line.contains(r#""isError":true"#), "{line}");
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("[WARNING] secure_tool: "))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(warnings[0].contains("gate=allowlist"), "{stderr}");
    // The escape character reaches the log escaped, never raw.
    assert!(warnings[0].contains(r"\u{1b}"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
}

/// Whether the open file of `fd` in process `pid` does not block (Linux).
fn nonblocking(pid: u32, fd: i32) -> bool {
    let info = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")).unwrap();
    let flags = info
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .map(|f| u32::from_str_radix(f.trim(), 8).unwrap())
        .unwrap();
    // O_NONBLOCK
    flags & 0o4000 != 0
}

/// Three calls, allowed, refused and allowed, over stdio served in `mode`
/// (`SECURE_TOOL_STDIO`): the server's stderr once the client hangs up, and
/// whether its stdin did not block while it served.
fn three_calls(mode: Option<&str>) -> (String, bool) {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;

    let mut command = Command::new(env!("CARGO_BIN_EXE_basic-server"));
    command.env_remove("SECURE_TOOL_LOG");
    match mode {
        Some(mode) => command.env("SECURE_TOOL_STDIO", mode),
        None => command.env_remove("SECURE_TOOL_STDIO"),
    };
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("basic-server runs");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut send = |message: &str, answered: Option<&str>| {
        writeln!(stdin, "{message}").unwrap();
        let Some(id) = answered else { return };
        let mut line = String::new();
        while !line.contains(id) {
            line.clear();
            assert!(stdout.read_line(&mut line).unwrap() > 0, "no answer");
        }
    };
    send(INITIALIZE, Some(r#""id":1"#));
    let unblocked = nonblocking(child.id(), 0);
    send(
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        None,
    );
    // Allowed (gathered), refused (written at once, after what was
    // gathered), allowed again (gathered until the server exits).
    for (id, op) in [(2, "add"), (3, "pow"), (4, "sub")] {
        send(
            &format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"compute","arguments":{{"op":"{op}","a":1,"b":2}}}}}}"#
            ),
            Some(&format!(r#""id":{id}"#)),
        );
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    (String::from_utf8(out.stderr).unwrap(), unblocked)
}

#[test]
fn every_line_reaches_stderr_in_order_when_the_client_hangs_up() {
    // Pipes served without blocking (the default), and by blocking threads.
    for (mode, unblocked) in [
        (None, true),
        (Some("pipes"), true),
        (Some("blocking"), false),
    ] {
        let (stderr, served) = three_calls(mode);
        assert_eq!(served, unblocked, "{mode:?}");
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains("tool=compute"))
            .collect();
        assert_eq!(lines.len(), 3, "{mode:?}: {stderr}");
        assert!(lines[0].starts_with("[INFO] secure_tool: "), "{stderr}");
        assert!(lines[1].starts_with("[WARNING] secure_tool: "), "{stderr}");
        assert!(lines[2].starts_with("[INFO] secure_tool: "), "{stderr}");
    }
}

#[test]
fn an_unknown_stdio_mode_is_refused_before_serving() {
    let out = Command::new(env!("CARGO_BIN_EXE_basic-server"))
        .env("SECURE_TOOL_STDIO", "fast")
        .stdin(std::process::Stdio::piped())
        .output()
        .expect("basic-server runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("SECURE_TOOL_STDIO must be `pipes` or `blocking`"),
        "{stderr}"
    );
}

#[test]
fn stdin_blocks_again_once_serving_ends() {
    use std::io::Write;
    // The server's stdin shares its open file with this process's copy.
    let (reader, mut writer) = std::io::pipe().unwrap();
    let shared = reader.try_clone().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_basic-server"))
        .env_remove("SECURE_TOOL_STDIO")
        .stdin(shared)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("basic-server runs");
    writeln!(writer, "{INITIALIZE}").unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    assert!(line.contains(r#""id":1"#), "{line}");
    use std::os::fd::AsRawFd as _;
    let fd = reader.as_raw_fd();
    assert!(
        nonblocking(std::process::id(), fd),
        "served without blocking"
    );
    drop(writer);
    assert!(child.wait().unwrap().success());
    assert!(!nonblocking(std::process::id(), fd), "left not blocking");
}

#[test]
fn stdio_keeps_blocking_when_stderr_shares_the_output_pipe() {
    use std::io::{BufRead, Write};
    // `2>&1`: stderr writes into the same pipe as stdout.
    let (reader, writer) = std::io::pipe().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_basic-server"))
        .env_remove("SECURE_TOOL_STDIO")
        .stdin(std::process::Stdio::piped())
        .stdout(writer.try_clone().unwrap())
        .stderr(writer)
        .spawn()
        .expect("basic-server runs");
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{INITIALIZE}").unwrap();
    let mut output = std::io::BufReader::new(reader);
    let mut line = String::new();
    while !line.contains(r#""id":1"#) {
        line.clear();
        assert!(output.read_line(&mut line).unwrap() > 0, "no answer");
    }
    assert!(!nonblocking(child.id(), 0), "stdin made not to block");
    assert!(!nonblocking(child.id(), 1), "stdout made not to block");
    drop(stdin);
    assert!(child.wait().unwrap().success());
}
