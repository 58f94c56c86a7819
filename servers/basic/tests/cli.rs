//! The command line: `--help` documents every option, and a wrong one is an
//! error that names it, before anything is served.

use std::process::{Command, Output};

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
    ] {
        assert!(help.contains(option), "{option} missing from:\n{help}");
    }
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
