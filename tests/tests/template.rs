//! `servers/template` is the server to copy, so a copy must build and pass
//! its tests outside this repository: copied to a temporary directory, with
//! only its `secure-tool` dependency pointed at this checkout.

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

#[test]
fn a_copy_of_the_template_builds_and_passes_outside_the_workspace() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
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
    // The same versions as this workspace, from the local registry cache.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();

    let output = Command::new(env!("CARGO"))
        .args(["test", "--offline", "--quiet"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", root.join("target/template-copy"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        output.status.success(),
        "the copy failed:\n{stdout}\n{stderr}"
    );
    let passed: u32 = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("test result: ok. "))
        .filter_map(|l| l.split(' ').next()?.parse::<u32>().ok())
        .sum();
    assert!(
        passed >= 10,
        "only {passed} tests ran in the copy:\n{stdout}"
    );
}
