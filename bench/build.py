#!/usr/bin/env python3
"""Build cost of secure-tool against rmcp's own #[tool], on generated crates.

For N tools (20 and 100 by default) it writes two binary crates with the same
tools, in four shapes that cycle: an allowlisted operator over two numbers,
bounded text, a bounded count with a flag, and a bounded list with an optional
limit. One declares them with #[secure_tool] on secure-tool's default
features, the other with rmcp's #[tool] and serde/schemars argument structs.

Each crate is built cold (`cargo build`, dev profile, an empty target
directory), with this workspace's Cargo.lock and no network. Then the leaf
crate alone is rebuilt, twice per round: after an edit (one tool's description
changes; incremental compilation helps) and from scratch (`cargo clean -p`).
It prints, per N, the packages compiled, the cold time, the median rebuild
times of each, and the ratios.

    python3 bench/build.py              # 20 and 100 tools
    TOOLS=20 REBUILDS=5 python3 bench/build.py
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = [int(n) for n in os.environ.get("TOOLS", "20 100").split()]
REBUILDS = int(os.environ.get("REBUILDS", "3"))


def secure_tool_crate(n):
    tools, names = [], []
    for i in range(n):
        name = f"tool_{i}"
        names.append(name)
        shape = i % 4
        if shape == 0:
            tools.append(f'''
/// Applies an operator to two bounded numbers.
#[secure_tool(public, allow(op = ["add", "sub", "mul"]), max = 1e9)]
pub fn {name}(op: Op{i}, a: f64, b: f64) -> Result<f64, Reject> {{
    Ok(match op {{
        Op{i}::Add => a + b,
        Op{i}::Sub => a - b,
        Op{i}::Mul => a * b,
    }})
}}
''')
        elif shape == 1:
            tools.append(f'''
/// Echoes bounded text.
#[secure_tool(public, max_len(text = 1000))]
pub fn {name}(text: String) -> Result<String, Reject> {{
    Ok(text)
}}
''')
        elif shape == 2:
            tools.append(f'''
/// Repeats a word a bounded number of times.
#[secure_tool(public, max(count = 100))]
pub fn {name}(count: u32, loud: bool) -> Result<String, Reject> {{
    let word = if loud {{ "HI" }} else {{ "hi" }};
    Ok(word.repeat(count as usize))
}}
''')
        else:
            tools.append(f'''
/// Joins a bounded list.
#[secure_tool(public, max_items(items = 50), max_len(items = 100), max(limit = 50))]
pub fn {name}(items: Vec<String>, limit: Option<u32>) -> Result<String, Reject> {{
    let limit = limit.unwrap_or(50) as usize;
    Ok(items.into_iter().take(limit).collect::<Vec<_>>().join(","))
}}
''')
    main = f'''//! {n} tools declared with #[secure_tool].

use secure_tool::{{Reject, Server, secure_tool, server}};
{"".join(tools)}
server!(Bench {{ {", ".join(names)} }});

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {{
    Server::new(Bench).serve_stdio().await
}}
'''
    manifest = f'''[package]
name = "bench-secure-tool"
version = "0.1.0"
edition = "2024"

[dependencies]
secure-tool = {{ path = {os.path.join(ROOT, "runtime")!r} }}
tokio = {{ version = "1", features = ["rt", "macros", "io-std"] }}
'''
    return manifest, main


def rmcp_crate(n):
    structs, tools = [], []
    for i in range(n):
        shape = i % 4
        if shape == 0:
            structs.append(f'''
#[derive(Deserialize, JsonSchema)]
struct Args{i} {{
    op: String,
    a: f64,
    b: f64,
}}
''')
            tools.append(f'''
    #[tool(description = "Applies an operator to two bounded numbers.")]
    fn tool_{i}(&self, Parameters(args): Parameters<Args{i}>) -> Result<String, String> {{
        Ok(match args.op.as_str() {{
            "sub" => args.a - args.b,
            "mul" => args.a * args.b,
            _ => args.a + args.b,
        }}
        .to_string())
    }}
''')
        elif shape == 1:
            structs.append(f'''
#[derive(Deserialize, JsonSchema)]
struct Args{i} {{
    text: String,
}}
''')
            tools.append(f'''
    #[tool(description = "Echoes bounded text.")]
    fn tool_{i}(&self, Parameters(args): Parameters<Args{i}>) -> Result<String, String> {{
        Ok(args.text)
    }}
''')
        elif shape == 2:
            structs.append(f'''
#[derive(Deserialize, JsonSchema)]
struct Args{i} {{
    count: u32,
    loud: bool,
}}
''')
            tools.append(f'''
    #[tool(description = "Repeats a word a bounded number of times.")]
    fn tool_{i}(&self, Parameters(args): Parameters<Args{i}>) -> Result<String, String> {{
        let word = if args.loud {{ "HI" }} else {{ "hi" }};
        Ok(word.repeat(args.count as usize))
    }}
''')
        else:
            structs.append(f'''
#[derive(Deserialize, JsonSchema)]
struct Args{i} {{
    items: Vec<String>,
    limit: Option<u32>,
}}
''')
            tools.append(f'''
    #[tool(description = "Joins a bounded list.")]
    fn tool_{i}(&self, Parameters(args): Parameters<Args{i}>) -> Result<String, String> {{
        let limit = args.limit.unwrap_or(50) as usize;
        Ok(args.items.into_iter().take(limit).collect::<Vec<_>>().join(","))
    }}
''')
    main = f'''//! {n} tools declared with rmcp's #[tool].

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{{ServerHandler, ServiceExt, tool, tool_handler, tool_router}};
use schemars::JsonSchema;
use serde::Deserialize;
{"".join(structs)}
#[derive(Clone)]
struct Bench {{
    tool_router: ToolRouter<Self>,
}}

#[tool_router]
impl Bench {{
{"".join(tools)}}}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Bench {{}}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {{
    let server = Bench {{ tool_router: Bench::tool_router() }};
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(std::io::Error::other)?;
    running.waiting().await.map_err(std::io::Error::other)?;
    Ok(())
}}
'''
    manifest = '''[package]
name = "bench-rmcp"
version = "0.1.0"
edition = "2024"

[dependencies]
rmcp = { version = "3.9", default-features = false, features = ["server", "macros", "schemars", "transport-io"] }
serde = { version = "1", features = ["derive"] }
schemars = "1"
tokio = { version = "1", features = ["rt", "macros", "io-std"] }
'''
    return manifest, main


# Cargo's defaults, as a tool author builds: incremental on in the dev profile.
ENV = {k: v for k, v in os.environ.items() if k != "CARGO_INCREMENTAL"}


def cargo_build(crate, target):
    start = time.monotonic()
    out = subprocess.run(
        ["cargo", "build", "--offline"],
        cwd=crate,
        env={**ENV, "CARGO_TARGET_DIR": target, "CARGO_TERM_COLOR": "never"},
        capture_output=True,
        text=True,
    )
    elapsed = time.monotonic() - start
    if out.returncode != 0:
        tail = "\n".join(out.stderr.splitlines()[-40:])
        sys.exit(f"build of {crate} failed:\n{tail}")
    compiled = sum(1 for line in out.stderr.splitlines() if line.strip().startswith("Compiling "))
    return elapsed, compiled


def measure(work, label, manifest, main):
    crate = os.path.join(work, label)
    target = os.path.join(work, label + "-target")
    os.makedirs(os.path.join(crate, "src"))
    with open(os.path.join(crate, "Cargo.toml"), "w") as f:
        f.write(manifest)
    shutil.copy(os.path.join(ROOT, "Cargo.lock"), os.path.join(crate, "Cargo.lock"))
    source = os.path.join(crate, "src", "main.rs")
    with open(source, "w") as f:
        f.write(main)
    # Downloads are not build time: fetch what the crate needs first.
    subprocess.run(["cargo", "fetch", "-q"], cwd=crate, env=ENV, check=True)
    cold, compiled = cargo_build(crate, target)
    edits, leaves = [], []
    for i in range(REBUILDS):
        # An edit a tool author makes: one tool's description changes.
        with open(source, "w") as f:
            f.write(main.replace("two bounded numbers.", f"two bounded numbers ({i}).", 1))
        edits.append(cargo_build(crate, target)[0])
        # The leaf crate from scratch: its incremental state is gone too.
        subprocess.run(
            ["cargo", "clean", "--offline", "-q", "-p", package(manifest)],
            cwd=crate,
            env={**ENV, "CARGO_TARGET_DIR": target},
            check=True,
        )
        leaves.append(cargo_build(crate, target)[0])
    shutil.rmtree(target, ignore_errors=True)
    return cold, compiled, statistics.median(edits), statistics.median(leaves)


def package(manifest):
    return manifest.split('name = "', 1)[1].split('"', 1)[0]


def main():
    print(f"{os.cpu_count()} CPUs; dev profile; {REBUILDS} rebuilds per crate (median)")
    for n in TOOLS:
        with tempfile.TemporaryDirectory(prefix="secure-tool-build-") as work:
            ours = measure(work, "secure-tool", *secure_tool_crate(n))
            theirs = measure(work, "rmcp", *rmcp_crate(n))
        print(f"\n{n} tools            secure-tool      rmcp #[tool]    ratio")
        print(f"  packages compiled  {ours[1]:>11}  {theirs[1]:>12}   {ours[1] / theirs[1]:.2f}x")
        print(f"  cold build         {ours[0]:>10.1f}s  {theirs[0]:>11.1f}s   {ours[0] / theirs[0]:.2f}x")
        print(f"  rebuild, one edit  {ours[2]:>10.1f}s  {theirs[2]:>11.1f}s   {ours[2] / theirs[2]:.2f}x")
        print(f"  leaf from scratch  {ours[3]:>10.1f}s  {theirs[3]:>11.1f}s   {ours[3] / theirs[3]:.2f}x")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
