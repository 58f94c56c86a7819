//! Crates outside this repository, as a user writes them. `servers/template`
//! is the server to copy, so a copy must build and pass its tests: copied to a
//! temporary directory, with only its `secure-tool` dependency pointed at this
//! checkout. A crate on the default features (no database, no HTTP stack)
//! builds and runs its generated tests, and a scope it cannot enforce does not
//! compile.

use std::path::Path;
use std::process::Command;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// Runs cargo in `dir` with this workspace's lock file and a target directory
/// shared by every crate of these tests: (success, stdout, stderr).
fn cargo(dir: &Path, args: &[&str]) -> (bool, String, String) {
    // The same versions as this workspace, from the local registry cache.
    std::fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let output = Command::new(env!("CARGO"))
        .args(args)
        .args(["--offline", "--quiet"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", root().join("target/outside"))
        // No debug info: these builds add gigabytes to the checkout's disk.
        .env("CARGO_PROFILE_DEV_DEBUG", "false")
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// How many tests passed, over every test binary.
fn passed(stdout: &str) -> u32 {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("test result: ok. "))
        .filter_map(|l| l.split(' ').next()?.parse::<u32>().ok())
        .sum()
}

#[test]
fn a_copy_of_the_template_builds_and_passes_outside_the_workspace() {
    let root = root();
    let dir = std::env::temp_dir().join(format!("secure-tool-template-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&root.join("servers/template"), &dir);

    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(
        !manifest.contains(".workspace"),
        "the template inherits from the workspace: a copy cannot build"
    );
    let local = format!("path = {:?}", root.join("runtime").display().to_string());
    let manifest = manifest.replace(r#"path = "../../runtime""#, &local);
    assert!(
        manifest.contains(&local),
        "the template names secure-tool by path"
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    // A structured result, derived through secure-tool's re-exports: the
    // copy has no `serde` or `schemars` of its own.
    assert!(
        !std::fs::read_to_string(dir.join("Cargo.toml"))
            .unwrap()
            .contains("serde =")
    );
    std::fs::write(dir.join("src/notes.rs"), STRUCTURED_TOOL).unwrap();
    let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
    std::fs::write(dir.join("src/lib.rs"), format!("{lib}\npub mod notes;\n")).unwrap();
    let (ok, stdout, stderr) = cargo(&dir, &["test"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(ok, "the copy failed:\n{stdout}\n{stderr}");
    let passed = passed(&stdout);
    assert!(
        passed >= 10,
        "only {passed} tests ran in the copy:\n{stdout}"
    );
}

const STRUCTURED_TOOL: &str = r#"
use secure_tool::{Json, Reject, UntrustedJson, secure_tool, server};

/// A note as stored.
#[derive(secure_tool::serde::Serialize, secure_tool::schemars::JsonSchema)]
#[serde(crate = "secure_tool::serde")]
#[schemars(crate = "secure_tool::schemars")]
pub struct Note {
    pub id: u32,
    pub title: String,
}

/// Shows a note's id and a fixed title.
#[secure_tool(public, read_only, max(id = 100))]
pub fn show(id: u32) -> Result<Json<Note>, Reject> {
    Ok(Json(Note { id, title: "fixed".into() }))
}

/// Reads a stored note, whose title a user wrote.
#[secure_tool(public, read_only, max(id = 100))]
pub fn read(id: u32) -> Result<UntrustedJson<Note>, Reject> {
    let note = Note { id, title: "stored".into() };
    Ok(UntrustedJson::new(format!("note:{id}"), note))
}

server!(pub Notes { show, read });
"#;

const LEAN_TOOL: &str = r#"
use secure_tool::{Reject, secure_tool, server};

/// Echoes bounded text.
#[secure_tool(public, max_len(text = 100))]
pub fn echo(text: String) -> Result<String, Reject> {
    Ok(text)
}
"#;

/// Declarations the default features cannot enforce, and the error each gives.
const UNENFORCEABLE: &[(&str, &str)] = &[
    (
        r#"
/// Removes an item.
#[secure_tool(scope = "items:delete")]
pub fn remove(id: u32) -> Result<String, Reject> {
    Ok(id.to_string())
}
"#,
        "tool `remove` declares `scope`, which needs the `rbac` feature of secure-tool",
    ),
    (
        r#"
/// Removes an item.
#[secure_tool(public, confirm)]
pub fn remove(id: u32) -> Result<String, Reject> {
    Ok(id.to_string())
}
"#,
        "tool `remove` declares `confirm`, which needs the `consent` feature of secure-tool",
    ),
];

#[test]
fn a_crate_on_the_default_features_runs_its_tests_and_cannot_declare_what_they_cannot_enforce() {
    let dir = std::env::temp_dir().join(format!("secure-tool-lean-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let manifest = format!(
        "[package]\nname = \"lean-tools\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [dependencies]\nsecure-tool = {{ path = {:?} }}\n",
        root().join("runtime").display().to_string()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    let lib = dir.join("src/lib.rs");

    std::fs::write(&lib, format!("{LEAN_TOOL}\nserver!(Lean {{ echo }});\n")).unwrap();
    let (ok, stdout, stderr) = cargo(&dir, &["test"]);
    assert!(ok, "the lean crate failed:\n{stdout}\n{stderr}");
    assert!(
        passed(&stdout) >= 4,
        "the generated tests did not run:\n{stdout}"
    );
    let (_, tree, _) = cargo(&dir, &["tree", "-e", "normal", "--prefix", "none"]);
    for heavy in [
        "sqlx",
        "casbin",
        "jsonwebtoken",
        "hyper",
        "rustls",
        "cap-std",
    ] {
        assert!(
            !tree.lines().any(|l| l.starts_with(&format!("{heavy} "))),
            "the default features pull {heavy}:\n{tree}"
        );
    }

    for (tool, error) in UNENFORCEABLE {
        std::fs::write(
            &lib,
            format!("{LEAN_TOOL}{tool}\nserver!(Lean {{ echo, remove }});\n"),
        )
        .unwrap();
        let (ok, _, stderr) = cargo(&dir, &["check"]);
        assert!(
            !ok,
            "compiled without the feature that enforces it:\n{tool}"
        );
        assert!(stderr.contains(error), "{stderr}");
        assert_eq!(
            stderr.lines().filter(|l| l.starts_with("error")).count(),
            2,
            "one error and its summary, nothing else:\n{stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The files of the README's "Your first server", by name, as the reader
/// copies them: each fenced block whose info string names a `file=`.
fn first_server_files() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find("<!-- first-server:start -->")
        .expect("README has the walkthrough's start marker");
    let end = readme
        .find("<!-- first-server:end -->")
        .expect("README has the walkthrough's end marker");
    let mut files = Vec::new();
    let mut lines = readme[start..end].lines();
    while let Some(line) = lines.next() {
        let Some(name) = line
            .strip_prefix("```")
            .and_then(|info| info.split_once(" file="))
            .map(|(_, name)| name.trim().to_owned())
        else {
            continue;
        };
        let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        files.push((name, body.join("\n") + "\n"));
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_server_walkthrough_builds_tests_and_answers_a_real_client() {
    use rmcp::ServiceExt as _;
    use secure_tool_tests::{call, text};
    use serde_json::json;
    use tokio::io::AsyncBufReadExt as _;

    let files = first_server_files();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Cargo.toml", "src/main.rs"]);
    let dir = std::env::temp_dir().join(format!("secure-tool-first-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (name, body) in &files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        // The reader's checkout sits next to the crate; this one is here.
        let local = format!("path = {:?}", root().join("runtime").display().to_string());
        std::fs::write(
            &path,
            body.replace(r#"path = "../secure-tool/runtime""#, &local),
        )
        .unwrap();
    }
    let built = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || {
            let tested = cargo(&dir, &["test"]);
            let built = cargo(&dir, &["build"]);
            (tested, built)
        }
    })
    .await
    .unwrap();
    let ((ok, stdout, stderr), (built, _, build_err)) = built;
    assert!(ok, "cargo test failed:\n{stdout}\n{stderr}");
    assert!(passed(&stdout) >= 10, "{stdout}");
    assert!(built, "cargo build failed:\n{build_err}");

    let binary = root().join("target/outside/debug/notes-server");
    let (transport, stderr) =
        rmcp::transport::TokioChildProcess::builder(tokio::process::Command::new(&binary))
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
    let mut stderr = tokio::io::BufReader::new(stderr.unwrap()).lines();
    let line = stderr.next_line().await.unwrap().unwrap_or_default();
    let token = line
        .strip_prefix("notes-server: development token ")
        .unwrap_or_else(|| panic!("no token in {line:?}"))
        .to_owned();
    let client = ().serve(transport).await.unwrap();

    let added = call(
        &client,
        "add_note",
        json!({"token": token, "text": "buy milk"}),
    )
    .await;
    assert_eq!(text(&added), "note 1");
    let read = call(&client, "read_note", json!({"token": token, "number": 1})).await;
    let shown = text(&read);
    assert!(
        shown.starts_with("<untrusted_content_") && shown.contains("\nbuy milk\n"),
        "{shown}"
    );
    for (args, refused) in [
        (
            json!({"token": token, "number": 0}),
            "rejected by range gate",
        ),
        (
            json!({"token": token, "number": 1, "x": 1}),
            "rejected by unknown-field gate",
        ),
        (
            json!({"token": "dev-guess", "number": 1}),
            "rejected by auth gate",
        ),
    ] {
        let result = call(&client, "read_note", args).await;
        assert!(text(&result).starts_with(refused), "{}", text(&result));
    }
    let long = call(
        &client,
        "add_note",
        json!({"token": token, "text": "x".repeat(501)}),
    )
    .await;
    assert!(
        text(&long).starts_with("rejected by length gate"),
        "{}",
        text(&long)
    );
    client.cancel().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
