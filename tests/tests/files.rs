//! files-server through a real MCP client, on a temporary tree built to be
//! escaped from: a sibling directory whose name starts with the root's, a
//! link to `/etc/passwd`, a chain of links out, a FIFO, `..` in the middle of
//! a path, absolute paths into the root and out of it, a link planted by
//! another thread while calls run, and a directory swapped for a link
//! thousands of times under a stream of reads.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use files_server::demo::{Config, READER, WRITER, build};
use secure_tool_tests::{Client, call, connect, text};
use serde_json::json;

/// What no read may ever return: the content of every file outside the root.
const OUTSIDE: &str = "OUTSIDE-THE-ROOT";

/// `base/root` (served), `base/root-sibling` and `base/outside` (not).
fn tree() -> (PathBuf, PathBuf) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let base = std::env::temp_dir().join(format!("files-test-{}-{nanos}", std::process::id()));
    let root = base.join("root");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::create_dir_all(base.join("root-sibling")).unwrap();
    std::fs::create_dir_all(base.join("outside")).unwrap();
    std::fs::write(root.join("a.txt"), "inside a").unwrap();
    std::fs::write(root.join("sub/b.txt"), "inside b").unwrap();
    std::fs::write(base.join("root-sibling/secret.txt"), OUTSIDE).unwrap();
    std::fs::write(base.join("outside/secret.txt"), OUTSIDE).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        symlink("a.txt", root.join("link_in")).unwrap();
        symlink("/etc/passwd", root.join("passwd")).unwrap();
        symlink("chain2", root.join("chain1")).unwrap();
        symlink("sub/chain3", root.join("chain2")).unwrap();
        symlink("../../outside/secret.txt", root.join("sub/chain3")).unwrap();
        symlink("../outside", root.join("out_dir")).unwrap();
        let fifo = std::process::Command::new("mkfifo")
            .arg(root.join("fifo"))
            .status()
            .unwrap();
        assert!(fifo.success());
    }
    let root = std::fs::canonicalize(root).unwrap();
    (base, root)
}

async fn serve(root: &Path) -> Client {
    let config = Config {
        demo: true,
        subject_rate: None,
        ..Config::new(vec![root.to_path_buf()])
    };
    connect(build(config).await.expect("files-server builds")).await
}

async fn read(client: &Client, path: &str) -> (bool, String) {
    let result = tokio::time::timeout(
        Duration::from_secs(10),
        call(
            client,
            "read_text_file",
            json!({"token": READER, "path": path}),
        ),
    )
    .await
    .expect("no read hangs");
    (result.is_error == Some(true), text(&result).to_owned())
}

#[track_caller]
fn refused_at(result: &(bool, String), gate: &str) {
    assert!(result.0, "allowed: {}", result.1);
    assert!(
        result.1.starts_with(&format!("rejected by {gate} gate")),
        "{}",
        result.1
    );
    assert!(!result.1.contains(OUTSIDE), "{}", result.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_escape_is_refused_and_every_path_inside_is_served() {
    let (base, root) = tree();
    let client = serve(&root).await;
    let r = root.display();
    let b = base.display();

    // Inside: relative, absolute into the root, `..` that stays inside, a
    // link whose target is inside.
    for inside in [
        "a.txt".to_owned(),
        format!("{r}/a.txt"),
        "sub/../a.txt".to_owned(),
        "./sub/./../a.txt".to_owned(),
        "link_in".to_owned(),
    ] {
        let (error, said) = read(&client, &inside).await;
        assert!(!error, "{inside}: {said}");
        assert!(said.contains("inside a"), "{inside}: {said}");
    }

    for (path, why) in [
        ("../outside/secret.txt".to_owned(), "climbs above its root"),
        (
            "sub/../../outside/secret.txt".to_owned(),
            "climbs above its root",
        ),
        ("/etc/passwd".to_owned(), "is outside every root"),
        (
            format!("{b}/root-sibling/secret.txt"),
            "is outside every root",
        ),
        (
            format!("{r}/../outside/secret.txt"),
            "climbs above its root",
        ),
        ("passwd".to_owned(), "resolves outside its root"),
        ("chain1".to_owned(), "resolves outside its root"),
        ("out_dir/secret.txt".to_owned(), "resolves outside its root"),
        ("fifo".to_owned(), "names a special file"),
        (
            format!("{}/x", "c".repeat(256)),
            "has a component longer than 255 bytes",
        ),
    ] {
        let result = read(&client, &path).await;
        refused_at(&result, "path");
        assert!(result.1.contains(why), "{path}: {}", result.1);
    }
    // A NUL byte never reaches the guard: the control-chars gate refuses it.
    refused_at(&read(&client, "a.txt\u{0}.png").await, "control-chars");
    // Writes are confined the same way, and need consent.
    let planted = call(
        &client,
        "write_file",
        json!({"token": WRITER, "path": "../outside/planted.txt", "content": "x", "confirm": true}),
    )
    .await;
    assert!(
        text(&planted).starts_with("rejected by path gate"),
        "{}",
        text(&planted)
    );
    assert!(!base.join("outside/planted.txt").exists());
    let _ = std::fs::remove_dir_all(base);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_are_atomic_scoped_and_confirmed() {
    let (base, root) = tree();
    let client = serve(&root).await;
    // The reader may not write at all.
    let denied = call(
        &client,
        "write_file",
        json!({"token": READER, "path": "a.txt", "content": "x", "confirm": true}),
    )
    .await;
    assert!(
        text(&denied).starts_with("rejected by scope gate"),
        "{}",
        text(&denied)
    );
    // Overwriting needs consent.
    let unconfirmed = call(
        &client,
        "write_file",
        json!({"token": WRITER, "path": "a.txt", "content": "x"}),
    )
    .await;
    assert!(text(&unconfirmed).starts_with("rejected by confirm gate"));
    assert_eq!(
        std::fs::read_to_string(root.join("a.txt")).unwrap(),
        "inside a"
    );
    // A write that fails leaves nothing behind (its directory does not exist).
    let failed = call(
        &client,
        "write_file",
        json!({"token": WRITER, "path": "missing/c.txt", "content": "x", "confirm": true}),
    )
    .await;
    assert_eq!(failed.is_error, Some(true), "{}", text(&failed));
    let written = call(
        &client,
        "write_file",
        json!({"token": WRITER, "path": "sub/c.txt", "content": "new", "confirm": true}),
    )
    .await;
    assert_eq!(written.is_error, Some(false), "{}", text(&written));
    assert_eq!(
        std::fs::read_to_string(root.join("sub/c.txt")).unwrap(),
        "new"
    );
    let leftovers: Vec<_> = std::fs::read_dir(root.join("sub"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // Editing shows a diff; a dry run changes nothing.
    let dry = call(
        &client,
        "edit_file",
        json!({"token": WRITER, "path": "a.txt", "edits": [{"oldText": "inside", "newText": "edited"}], "dryRun": true, "confirm": true}),
    )
    .await;
    assert!(
        text(&dry).contains("-inside a") && text(&dry).contains("+edited a"),
        "{}",
        text(&dry)
    );
    assert_eq!(
        std::fs::read_to_string(root.join("a.txt")).unwrap(),
        "inside a"
    );
    // Moving cannot land outside, nor replace what exists.
    for (destination, gate) in [("../outside/moved.txt", "path"), ("sub/b.txt", "execute")] {
        let moved = call(
            &client,
            "move_file",
            json!({"token": WRITER, "source": "sub/c.txt", "destination": destination, "confirm": true}),
        )
        .await;
        assert!(
            text(&moved).starts_with(&format!("rejected by {gate} gate")),
            "{destination}: {}",
            text(&moved)
        );
    }
    assert_eq!(
        std::fs::read_to_string(root.join("sub/b.txt")).unwrap(),
        "inside b"
    );

    // Through a link out of the root, no write, move or directory lands outside.
    for (tool, args) in [
        (
            "write_file",
            json!({"token": WRITER, "path": "out_dir/planted.txt", "content": "x", "confirm": true}),
        ),
        (
            "move_file",
            json!({"token": WRITER, "source": "sub/c.txt", "destination": "out_dir/moved.txt", "confirm": true}),
        ),
        (
            "move_file",
            json!({"token": WRITER, "source": "out_dir/secret.txt", "destination": "stolen.txt", "confirm": true}),
        ),
        (
            "create_directory",
            json!({"token": WRITER, "path": "out_dir/made"}),
        ),
        (
            "move_file",
            json!({"token": WRITER, "source": "link_in", "destination": "sub/link_moved", "confirm": true}),
        ),
    ] {
        let result = call(&client, tool, args.clone()).await;
        assert!(
            text(&result).starts_with("rejected by path gate"),
            "{tool} {args}: {}",
            text(&result)
        );
    }
    let outside: Vec<_> = std::fs::read_dir(base.join("outside"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(outside, ["secret.txt"]);

    // An overwrite keeps the file's permissions; it never widens them.
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(
        root.join("sub/b.txt"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let written = call(
        &client,
        "write_file",
        json!({"token": WRITER, "path": "sub/b.txt", "content": "rewritten", "confirm": true}),
    )
    .await;
    assert_eq!(written.is_error, Some(false), "{}", text(&written));
    let mode = std::fs::metadata(root.join("sub/b.txt"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let _ = std::fs::remove_dir_all(base);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_and_searches_stay_inside_and_do_not_follow_links() {
    let (base, root) = tree();
    let client = serve(&root).await;
    let found = call(
        &client,
        "search_files",
        json!({"token": READER, "path": ".", "pattern": "*secret*"}),
    )
    .await;
    assert!(
        text(&found).contains("No matches found"),
        "{}",
        text(&found)
    );
    let tree = call(
        &client,
        "directory_tree",
        json!({"token": READER, "path": "."}),
    )
    .await;
    assert!(text(&tree).contains("\"b.txt\""), "{}", text(&tree));
    assert!(!text(&tree).contains("secret.txt"), "{}", text(&tree));
    let several = call(
        &client,
        "read_multiple_files",
        json!({"token": READER, "paths": ["a.txt", "../outside/secret.txt", "passwd"]}),
    )
    .await;
    for part in [
        "inside a",
        "climbs above its root",
        "resolves outside its root",
    ] {
        assert!(text(&several).contains(part), "{part}: {}", text(&several));
    }
    assert!(!text(&several).contains(OUTSIDE), "{}", text(&several));
    let listed = call(
        &client,
        "list_directory",
        json!({"token": READER, "path": "sub"}),
    )
    .await;
    assert!(text(&listed).contains("[FILE] b.txt"), "{}", text(&listed));
    let _ = std::fs::remove_dir_all(base);
}

/// Another process plants links while calls run: a link out appears and
/// disappears under the name the client reads, and never yields its target.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_planted_while_calls_run_never_lead_out() {
    let (base, root) = tree();
    let client = serve(&root).await;
    let stop = Arc::new(AtomicBool::new(false));
    let planter = {
        let (stop, root, outside) = (stop.clone(), root.clone(), base.join("outside"));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let _ = std::os::unix::fs::symlink(&outside, root.join("planted"));
                let _ = std::fs::remove_file(root.join("planted"));
            }
        })
    };
    for _ in 0..500 {
        let (error, said) = read(&client, "planted/secret.txt").await;
        assert!(error, "{said}");
        assert!(!said.contains(OUTSIDE), "{said}");
    }
    stop.store(true, Ordering::Relaxed);
    planter.join().unwrap();
    let _ = std::fs::remove_dir_all(base);
}

/// A directory swapped for a link out of the root, thousands of times,
/// under a stream of reads of a file inside it: no read returns what lies
/// outside.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_swapped_for_a_link_under_reads_never_leads_out() {
    let (base, root) = tree();
    std::fs::create_dir_all(root.join("real")).unwrap();
    std::fs::write(root.join("real/secret.txt"), "inside real").unwrap();
    std::os::unix::fs::symlink(base.join("outside"), root.join("fake")).unwrap();
    std::fs::rename(root.join("real"), root.join("swap")).unwrap();
    let client = serve(&root).await;
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, root) = (stop.clone(), root.clone());
        std::thread::spawn(move || {
            let mut swaps = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // `swap` is the real directory, then the link out, then back.
                let _ = std::fs::rename(root.join("swap"), root.join("real"));
                let _ = std::fs::rename(root.join("fake"), root.join("swap"));
                let _ = std::fs::rename(root.join("swap"), root.join("fake"));
                let _ = std::fs::rename(root.join("real"), root.join("swap"));
                swaps += 1;
            }
            swaps
        })
    };
    let started = Instant::now();
    let (mut reads, mut inside) = (0u64, 0u64);
    while started.elapsed() < Duration::from_secs(3) {
        let (error, said) = read(&client, "swap/secret.txt").await;
        assert!(
            !said.contains(OUTSIDE),
            "read {reads} returned what lies outside: {said}"
        );
        reads += 1;
        inside += u64::from(!error);
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    eprintln!("{reads} reads ({inside} served from inside) against {swaps} swaps");
    assert!(reads > 1000 && swaps > 1000, "{reads} reads, {swaps} swaps");
    let _ = std::fs::remove_dir_all(base);
}

/// A client that declares the roots capability (deprecated by the protocol,
/// still offered by clients) and lists `roots`.
#[derive(Clone)]
struct Rooted {
    roots: Vec<String>,
}

#[allow(deprecated)]
impl rmcp::ClientHandler for Rooted {
    fn get_info(&self) -> rmcp::model::ClientConfig {
        rmcp::model::ClientConfig::new(
            rmcp::model::ClientCapabilities::builder()
                .enable_roots()
                .build(),
            rmcp::model::Implementation::new("rooted", "1.0.0"),
        )
    }

    async fn list_roots(
        &self,
        _context: rmcp::service::RequestContext<rmcp::RoleClient>,
    ) -> Result<rmcp::model::ListRootsResult, rmcp::ErrorData> {
        Ok(rmcp::model::ListRootsResult::new(
            self.roots.iter().map(rmcp::model::Root::new).collect(),
        ))
    }
}

/// A client that offers roots narrows the server's to what it lists: paths
/// elsewhere in the server's root are refused, and `list_allowed_directories`
/// says what is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_s_roots_narrow_the_server_s() {
    let (base, root) = tree();
    let config = Config {
        demo: true,
        subject_rate: None,
        ..Config::new(vec![root.clone()])
    };
    let server = build(config).await.expect("files-server builds");
    let sub = root.join("sub");
    let client = secure_tool_tests::connect_as(
        server,
        Rooted {
            roots: vec![
                format!("file://{}", sub.display()),
                "file:///etc".to_owned(),
            ],
        },
    )
    .await;
    let read = |path: String| {
        call(
            &client,
            "read_text_file",
            json!({"token": READER, "path": path}),
        )
    };
    let inside = read(format!("{}/b.txt", sub.display())).await;
    assert_eq!(inside.is_error, Some(false), "{}", text(&inside));
    let outside = read(format!("{}/a.txt", root.display())).await;
    assert!(
        text(&outside).starts_with("rejected by path gate"),
        "{}",
        text(&outside)
    );
    let allowed = call(
        &client,
        "list_allowed_directories",
        json!({"token": READER}),
    )
    .await;
    assert_eq!(
        text(&allowed),
        format!("Allowed directories:\n{}", sub.display())
    );
    let _ = std::fs::remove_dir_all(base);
}
