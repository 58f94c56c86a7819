//! Log lines gathered for stderr are written when a thread panics.

use std::process::Command;

const CHILD: &str = "SECURE_TOOL_LOG_LINES_CHILD";

#[test]
fn gathered_lines_reach_stderr_when_a_thread_panics() {
    if std::env::var_os(CHILD).is_some() {
        secure_tool::log::init();
        tracing::info!(target: secure_tool::log::TARGET, "said before the panic");
        panic!("the test panics on purpose");
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "gathered_lines_reach_stderr_when_a_thread_panics",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env_remove("SECURE_TOOL_LOG")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let said = stderr
        .find("[INFO] secure_tool: said before the panic")
        .unwrap_or_else(|| panic!("the line is lost:\n{stderr}"));
    let panicked = stderr.find("the test panics on purpose").unwrap();
    assert!(said < panicked, "{stderr}");
}
