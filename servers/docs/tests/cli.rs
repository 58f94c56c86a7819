//! doc-server's command line.

use std::process::Command;

#[test]
fn demo_tokens_are_never_served_beyond_loopback() {
    for addr in ["0.0.0.0:0", "[::]:0", "192.0.2.1:0"] {
        let output = Command::new(env!("CARGO_BIN_EXE_doc-server"))
            .args([
                "--demo",
                "--database-url",
                "sqlite::memory:",
                "--http",
                addr,
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{addr}: {stderr}");
        assert!(
            stderr.contains("--demo hands out well-known tokens, so it serves on loopback only")
                && stderr.contains(addr),
            "{stderr}"
        );
    }
}
