//! `read_text_file` of a 4 KiB file three ways, in one run: through
//! files-server and the whole pipeline over an in-memory MCP transport; the
//! path guard alone (`Roots::check` and `CheckedPath::read_text`); and a
//! plain `std::fs::read` behind the hand-written canonicalise-and-prefix
//! check the guard replaces.
//!
//! `cargo bench -p secure-tool-tests --bench files`

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use files_server::demo::{Config, READER, build};
use secure_tool::guards::path::Roots;
use secure_tool_tests::{call, connect};
use serde_json::json;

/// The check the guard replaces: canonicalise, then compare by component.
fn hand_written(root: &Path, raw: &str) -> std::io::Result<Vec<u8>> {
    let path = std::fs::canonicalize(root.join(raw))?;
    if !path.starts_with(root) {
        return Err(std::io::Error::other("outside the root"));
    }
    std::fs::read(path)
}

fn read(c: &mut Criterion) {
    let root: PathBuf = std::env::temp_dir().join(format!("files-bench-{}", std::process::id()));
    std::fs::create_dir_all(root.join("docs")).unwrap();
    std::fs::write(root.join("docs/page.txt"), "lorem ipsum ".repeat(342)).unwrap();
    let root = std::fs::canonicalize(&root).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let config = Config {
        demo: true,
        subject_rate: None,
        ..Config::new(vec![root.clone()])
    };
    let client = rt.block_on(async { connect(build(config).await.unwrap()).await });
    let roots = Roots::open([&root]).unwrap();

    let mut group = c.benchmark_group("read a 4 KiB file");
    group.bench_function("files-server read_text_file, full pipeline", |b| {
        b.iter(|| {
            rt.block_on(async {
                let result = call(
                    &client,
                    "read_text_file",
                    json!({"token": READER, "path": "docs/page.txt"}),
                )
                .await;
                assert_eq!(result.is_error, Some(false));
                black_box(result)
            })
        })
    });
    group.bench_function("path guard alone: check and read through the handle", |b| {
        b.iter(|| {
            let path = roots.check("path", black_box("docs/page.txt")).unwrap();
            black_box(path.read_text(1 << 20).unwrap())
        })
    });
    group.bench_function("std::fs::read behind canonicalise-and-prefix", |b| {
        b.iter(|| black_box(hand_written(&root, black_box("docs/page.txt")).unwrap()))
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&root);
}

criterion_group!(benches, read);
criterion_main!(benches);
