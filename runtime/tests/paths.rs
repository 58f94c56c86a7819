//! The path guard on its own: random path strings built from components,
//! `..`, `.`, separators and links never open anything outside the root.

#![cfg(all(feature = "files", unix))]

use std::path::PathBuf;

use proptest::prelude::*;
use secure_tool::Gate;
use secure_tool::guards::path::Roots;

/// What every file outside the root holds, and no file inside does.
const OUTSIDE: &str = "OUTSIDE-THE-ROOT";

struct Tree {
    base: PathBuf,
    root: PathBuf,
    roots: Roots,
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// A root full of links, some in, some out, beside a directory whose files
/// all hold [`OUTSIDE`].
fn tree() -> Tree {
    use std::os::unix::fs::symlink;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let base = std::env::temp_dir().join(format!("paths-test-{}-{nanos}", std::process::id()));
    let root = base.join("root");
    std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
    std::fs::create_dir_all(base.join("outside/sub")).unwrap();
    std::fs::create_dir_all(base.join("root-sibling")).unwrap();
    for dir in ["outside", "outside/sub", "root-sibling"] {
        std::fs::write(base.join(dir).join("f"), OUTSIDE).unwrap();
        std::fs::write(base.join(dir).join("outside-marker"), OUTSIDE).unwrap();
    }
    std::fs::write(root.join("f"), "in f").unwrap();
    std::fs::write(root.join("sub/f"), "in sub/f").unwrap();
    std::fs::write(root.join("sub/deeper/f"), "in deeper/f").unwrap();
    symlink("sub", root.join("in_dir")).unwrap();
    symlink("../outside", root.join("out_dir")).unwrap();
    symlink(base.join("outside"), root.join("abs_out")).unwrap();
    symlink("../../outside/f", root.join("sub/up_out")).unwrap();
    symlink("loop_b", root.join("loop_a")).unwrap();
    symlink("loop_a", root.join("loop_b")).unwrap();
    symlink("/", root.join("slash")).unwrap();
    let root = std::fs::canonicalize(root).unwrap();
    let roots = Roots::open([&root]).unwrap();
    Tree { base, root, roots }
}

fn component() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("f".to_owned()),
        Just("sub".to_owned()),
        Just("deeper".to_owned()),
        Just("..".to_owned()),
        Just(".".to_owned()),
        Just("".to_owned()),
        Just("in_dir".to_owned()),
        Just("out_dir".to_owned()),
        Just("abs_out".to_owned()),
        Just("up_out".to_owned()),
        Just("loop_a".to_owned()),
        Just("slash".to_owned()),
        Just("outside".to_owned()),
        Just("etc".to_owned()),
        Just("passwd".to_owned()),
        "[a-z]{1,3}",
    ]
}

/// A path as a caller might write it: components joined by `/` (doubled at
/// times), relative, absolute into the root, absolute elsewhere, or naming
/// the root's sibling.
fn raw_path(root: String, base: String) -> impl Strategy<Value = String> {
    (
        prop::collection::vec(component(), 0..8),
        prop_oneof![
            Just(String::new()),
            Just(format!("{root}/")),
            Just(format!("{base}/")),
            Just(format!("{root}-sibling/")),
            Just("/".to_owned()),
        ],
        any::<bool>(),
    )
        .prop_map(|(parts, prefix, doubled)| {
            let separator = if doubled { "//" } else { "/" };
            format!("{prefix}{}", parts.join(separator))
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn nothing_outside_the_root_is_ever_opened(raw in raw_path(
        "@ROOT".to_owned(), "@BASE".to_owned()
    )) {
        let tree = TREE.with(|t| t.root.display().to_string());
        let base = TREE.with(|t| t.base.display().to_string());
        let raw = raw.replace("@ROOT", &tree).replace("@BASE", &base);
        TREE.with(|t| {
            match t.roots.check("path", &raw) {
                Ok(path) => {
                    // What a tool body could do with it: read, list, describe.
                    if let Ok(bytes) = path.read(1 << 20) {
                        prop_assert!(!String::from_utf8_lossy(&bytes).contains(OUTSIDE), "{raw}");
                    }
                    if let Ok(entries) = path.entries() {
                        for entry in entries {
                            prop_assert_ne!(entry.name.as_str(), "etc", "{}", raw);
                            prop_assert_ne!(entry.name.as_str(), "outside-marker", "{}", raw);
                        }
                    }
                }
                Err(refused) => {
                    prop_assert!(
                        matches!(refused.gate(), Gate::Path | Gate::Execute),
                        "{raw}: {refused}"
                    );
                }
            }
            Ok(())
        })?;
    }
}

thread_local! {
    static TREE: Tree = tree();
}

#[test]
fn each_refusal_names_its_reason() {
    let t = tree();
    let r = t.root.display();
    let b = t.base.display();
    for (raw, reason) in [
        ("../outside/f".to_owned(), "climbs above its root with `..`"),
        (
            "sub/../../outside/f".to_owned(),
            "climbs above its root with `..`",
        ),
        ("/etc/passwd".to_owned(), "is outside every root"),
        (format!("{b}/root-sibling/f"), "is outside every root"),
        (
            "out_dir/f".to_owned(),
            "resolves outside its root (a symbolic link)",
        ),
        (
            "abs_out/f".to_owned(),
            "resolves outside its root (a symbolic link)",
        ),
        (
            "sub/up_out".to_owned(),
            "resolves outside its root (a symbolic link)",
        ),
        (
            "slash/etc/passwd".to_owned(),
            "resolves outside its root (a symbolic link)",
        ),
        ("loop_a".to_owned(), "has too many levels of symbolic links"),
        ("x".repeat(4097), "is longer than 4096 bytes"),
        (
            format!("{}/f", "x".repeat(256)),
            "has a component longer than 255 bytes",
        ),
        ("f\0".to_owned(), "contains a NUL byte"),
    ] {
        let refused = t.roots.check("path", &raw).expect_err(&raw);
        assert_eq!(refused.gate(), Gate::Path, "{raw}: {refused}");
        assert_eq!(refused.reason(), reason, "{raw}");
    }
    for (raw, content) in [
        ("f".to_owned(), "in f"),
        (format!("{r}/sub/f"), "in sub/f"),
        ("in_dir/deeper/f".to_owned(), "in deeper/f"),
        ("sub/deeper/../f".to_owned(), "in sub/f"),
        (format!("{r}"), ""),
    ] {
        let path = t.roots.check("path", &raw).expect(&raw);
        if !content.is_empty() {
            assert_eq!(path.read_text(1024).unwrap(), content, "{raw}");
        }
    }
    // Bounded: a read never returns more than it is allowed.
    let big = t.roots.check("path", "f").unwrap();
    assert_eq!(big.read(2).unwrap_err().gate(), Gate::Length);
}

#[test]
fn a_fifo_is_refused_and_never_blocks_a_read() {
    let t = tree();
    let status = std::process::Command::new("mkfifo")
        .arg(t.root.join("pipe"))
        .status()
        .unwrap();
    assert!(status.success());
    let refused = t.roots.check("path", "pipe").unwrap_err();
    assert_eq!(refused.gate(), Gate::Path);
    assert!(refused.reason().contains("special file"), "{refused}");
    // Checked while it was a file, swapped for a FIFO before the read: the
    // read opens without blocking and refuses what it opened.
    std::fs::write(t.root.join("later"), "a file, for now").unwrap();
    let path = t.roots.check("path", "later").unwrap();
    std::fs::remove_file(t.root.join("later")).unwrap();
    std::fs::rename(t.root.join("pipe"), t.root.join("later")).unwrap();
    let refused = path.read(1024).unwrap_err();
    assert_eq!(refused.gate(), Gate::Path, "{refused}");
}

#[test]
fn roots_narrow_to_what_the_client_allows() {
    let t = tree();
    let client = [t.root.join("sub")];
    let narrowed = t.roots.narrowed(&client);
    assert_eq!(narrowed.paths().collect::<Vec<_>>(), [t.root.join("sub")]);
    assert!(narrowed.check("path", "f").is_ok());
    assert_eq!(
        narrowed
            .check("path", &format!("{}/f", t.root.display()))
            .unwrap_err()
            .gate(),
        Gate::Path
    );
    // A client root that contains the server's keeps the server's.
    let wide = t.roots.narrowed(std::slice::from_ref(&t.base));
    assert_eq!(wide.paths().collect::<Vec<_>>(), [t.root.as_path()]);
    // A client root elsewhere leaves nothing.
    assert!(t.roots.narrowed(&[PathBuf::from("/etc")]).is_empty());
}
