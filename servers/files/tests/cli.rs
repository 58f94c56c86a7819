//! files-server's command line: it does not start without a root, and never
//! serves demo tokens beyond loopback.

use std::process::Command;

#[test]
fn a_server_without_a_root_does_not_start() {
    let output = Command::new(env!("CARGO_BIN_EXE_files-server"))
        .env_remove("FILES_SERVER_JWT_SECRET")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no root: pass --root DIR"), "{stderr}");
    // A root that does not exist is no root either.
    let output = Command::new(env!("CARGO_BIN_EXE_files-server"))
        .args(["--demo", "--root", "/nonexistent/files-server-root"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("/nonexistent/files-server-root"),
        "{stderr}"
    );
}

#[test]
fn demo_tokens_are_never_served_beyond_loopback() {
    for addr in ["0.0.0.0:0", "[::]:0"] {
        let output = Command::new(env!("CARGO_BIN_EXE_files-server"))
            .args(["--demo", "--http", addr])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{addr}: {stderr}");
        assert!(stderr.contains("serves on loopback only"), "{stderr}");
    }
}
