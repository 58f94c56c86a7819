#!/usr/bin/env bash
# doc-server over streamable HTTP against a bare rmcp streamable-HTTP server
# with the same tool (bench/http: `bare-http`, a bearer token compared by hand
# and `read_document` reading the same SQLite file), driven by `http-load`:
# keep-alive HTTP/1.1 connections, one `tools/call` (protocol 2026-07-28, no
# session) in flight on each, at concurrency 1 and 32, the two servers in
# turn, ROUNDS rounds. doc-server runs `--demo --keep-documents --rate-limit
# off` on SQLite: token, scope, role, validation, query, redaction,
# spotlighting, write-ahead audit. Unpinned; prints medians, the paired ratio,
# and each server's peak resident memory.
#   ROUNDS=5 CALLS=4000 bash bench/http.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
CALLS=${CALLS:-4000}
TARGET=${CARGO_TARGET_DIR:-target}
BENCH_TARGET=${BENCH_TARGET_DIR:-/tmp/bench-target}
cargo build -q --release -p doc-server --bin doc-server
CARGO_TARGET_DIR="$BENCH_TARGET" cargo build -q --release --manifest-path bench/http/Cargo.toml
SERVER="$(pwd)/$TARGET/release/doc-server"
BARE="$BENCH_TARGET/release/bare-http"
LOAD="$BENCH_TARGET/release/http-load"
WORK=$(mktemp -d /tmp/http-bench.XXXXXX)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; rm -rf "$WORK"' EXIT
TOKEN=tok-carol-5d8841
DB="sqlite://$WORK/docs.db"
# shellcheck source=bench/seed.sh
source bench/seed.sh
seed_document "$SERVER" "$DB"

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
DOCS_PORT=$(port)
BARE_PORT=$(port)
"$SERVER" --demo --keep-documents --rate-limit off --database-url "$DB" --http "127.0.0.1:$DOCS_PORT" 2>/dev/null &
PIDS+=($!); DOCS_PID=$!
"$BARE" "127.0.0.1:$BARE_PORT" "$DB" "$TOKEN" 2>/dev/null &
PIDS+=($!); BARE_PID=$!
wait_port "$DOCS_PORT" && wait_port "$BARE_PORT"

run() { # port concurrency calls
    "$LOAD" --url "http://127.0.0.1:$1/mcp" --token "$TOKEN" --tool read_document \
        --args '{"id":1}' --concurrency "$2" --calls "$3"
}
RAW="$WORK/runs.jsonl"
for r in $(seq "$ROUNDS"); do
    for c in 1 32; do
        order=("bare $BARE_PORT" "docs $DOCS_PORT")
        (( r % 2 == 0 )) && order=("docs $DOCS_PORT" "bare $BARE_PORT")
        for peer in "${order[@]}"; do
            set -- $peer
            line=$(run "$2" "$c" "$CALLS")
            echo "{\"round\":$r,\"peer\":\"$1\",\"conc\":$c,\"res\":$line}" >>"$RAW"
            echo "r$r c=$c $1: $line" >&2
        done
    done
done
hwm() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
python3 - "$RAW" "$(hwm "$BARE_PID")" "$(hwm "$DOCS_PID")" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
print("| Concurrency | bare rmcp calls/s (p50 µs) | doc-server calls/s (p50 µs) | × bare (paired) |")
print("|---:|---:|---:|---:|")
for c in (1, 32):
    def of(peer):
        return {r["round"]: r["res"] for r in runs if r["peer"] == peer and r["conc"] == c}
    bare, docs = of("bare"), of("docs")
    assert all(r["failed"] == 0 for r in list(bare.values()) + list(docs.values())), "a call failed"
    med = lambda rs, k: statistics.median(r[k] for r in rs.values())
    ratio = statistics.median(docs[k]["calls_per_s"] / bare[k]["calls_per_s"] for k in bare)
    print(f"| {c} | {med(bare,'calls_per_s'):,.0f} ({med(bare,'p50_us'):.0f}) | "
          f"{med(docs,'calls_per_s'):,.0f} ({med(docs,'p50_us'):.0f}) | {ratio:.2f} |")
print(f"\npeak resident memory: bare rmcp {sys.argv[2]} MiB, doc-server {sys.argv[3]} MiB")
PY
