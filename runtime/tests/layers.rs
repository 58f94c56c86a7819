//! The runtime's modules form layers: each refers only to modules of lower
//! layers, so there is no import cycle and a newcomer can read from the bottom
//! up. The README's layout section lists the same layers.

/// Lowest first. A module may use modules of lower layers only.
const LAYERS: &[&[&str]] = &[
    &["log", "future", "probe", "client", "canon", "secrets"],
    &["reject", "auth"],
    &["limit", "guards", "output", "state", "oidc", "telemetry"],
    &["spec", "store"],
    &["schema", "validate", "audit", "authz", "approval", "quota"],
    &["consent", "manifest"],
    &["pipeline"],
    &["server"],
    &["http", "testing"],
    &["threat_model"],
];

fn layer(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&module))
        .unwrap_or_else(|| {
            panic!("module `{module}` is in no layer: add it to LAYERS and the README")
        })
}

/// The top-level modules a file's code (not its comments or unit tests) names.
fn uses(source: &str) -> Vec<String> {
    let code = source
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default();
    let mut out = Vec::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for (i, _) in line.match_indices("crate::") {
            let name: String = line[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_module_uses_only_lower_layers() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    files(&src, &mut paths);
    let mut checked = 0;
    for path in paths {
        let rel = path.strip_prefix(&src).unwrap();
        let module = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if module == "lib" {
            continue;
        }
        let own = layer(&module);
        for used in uses(&std::fs::read_to_string(&path).unwrap()) {
            if used == module {
                continue;
            }
            assert!(
                layer(&used) < own,
                "{}: `{module}` (layer {own}) uses `{used}` (layer {}), which is not below it",
                rel.display(),
                layer(&used)
            );
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} uses found");
}
