#!/usr/bin/env bash
# External load against basic-server over stdio, at concurrency 1 and 8:
# calls/s, p50 and p99 per call of `compute`, measured by a separate client
# process through real pipes. Release builds; CALLS sets the calls per run.
set -euo pipefail
cd "$(dirname "$0")/.."
CALLS=${CALLS:-20000}
TARGET=${CARGO_TARGET_DIR:-target}
cargo build -q --release -p basic-server -p secure-tool-tests --bin basic-server --bin load
for concurrency in 1 8; do
    "$TARGET/release/load" --server "$TARGET/release/basic-server" \
        --concurrency "$concurrency" --calls "$CALLS"
done
