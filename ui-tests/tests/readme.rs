//! The README's list of what is rejected at compile time is rendered from the
//! compile-fail cases, so it cannot drift from them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const START: &str = "<!-- compile-errors:start -->";
const END: &str = "<!-- compile-errors:end -->";

fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(cases(&path));
        } else if path.extension().is_some_and(|e| e == "stderr") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The first line of each distinct error message of a `.stderr` file.
fn messages(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("error")?;
            // `error: …` or `error[E0000]: …`
            let rest = rest
                .strip_prefix('[')
                .map_or(Some(rest), |r| r.split_once(']').map(|(_, m)| m))?;
            rest.strip_prefix(": ")
        })
        .map(|m| m.replace('|', "\\|"))
        .collect()
}

fn render() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = String::from("| Category | Case | The compiler says |\n|---|---|---|\n");
    for path in cases(&root.join("ui/fail")) {
        let rel = path.strip_prefix(root.join("ui/fail")).unwrap();
        let category = rel.parent().unwrap().display().to_string();
        let case = rel.file_stem().unwrap().to_string_lossy().into_owned();
        let stderr = std::fs::read_to_string(&path).unwrap();
        let said = messages(&stderr).join("<br>");
        assert!(!said.is_empty(), "{} holds no error", path.display());
        writeln!(out, "| {category} | `{case}` | {said} |").unwrap();
    }
    out
}

#[test]
fn readme_lists_every_compile_fail_case() {
    let readme_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let (head, rest) = readme
        .split_once(START)
        .expect("README has the compile-errors start marker");
    let (_, tail) = rest
        .split_once(END)
        .expect("README has the compile-errors end marker");
    let expected = format!("{head}{START}\n{}{END}{tail}", render());
    if expected != readme {
        if std::env::var_os("UPDATE_README").is_some() {
            std::fs::write(&readme_path, expected).unwrap();
        } else {
            panic!(
                "README.md's compile-time section differs from ui/fail; regenerate it with\n\
                 UPDATE_README=1 cargo test -p ui-tests --test readme"
            );
        }
    }
}
