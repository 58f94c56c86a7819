#!/usr/bin/env bash
# doc-server's read_document over stdio against a bare rmcp server, through an
# external interleaved tools/call harness (HARNESS: the path of its run.sh,
# which takes extra peers as PROJECT_<NAME> variables):
#   accept = read_document of a stored document by a viewer (token, scope,
#            role, validation, query, redaction, spotlighting, write-ahead audit);
#   reject = read_document with a forged token (the authentication refusal).
# On SQLite by default; with DATABASE_URL=postgres://… also on PostgreSQL.
# `--demo --keep-documents --rate-limit off`: demo tokens, the document
# seeded below kept across the harness's server runs, no per-subject limit.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${HARNESS:?set HARNESS to the harness run.sh}"
TARGET=${CARGO_TARGET_DIR:-target}
cargo build -q --release -p doc-server --bin doc-server
SERVER="$(pwd)/$TARGET/release/doc-server"
WORK=$(mktemp -d /tmp/doc-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# shellcheck source=bench/seed.sh
source bench/seed.sh

urls=("sqlite://$WORK/docs.db")
names=(SQLITE)
if [[ "${DATABASE_URL:-}" == postgres* ]]; then
    urls+=("$DATABASE_URL")
    names+=(POSTGRES)
fi
for i in "${!urls[@]}"; do
    url=${urls[$i]}
    name=${names[$i]}
    seed_document "$SERVER" "$url"
    export "PROJECT_DOCS$name=$SERVER --demo --keep-documents --rate-limit off --database-url $url"
    export "PROJECT_DOCS${name}_CASES=accept reject"
    export "PROJECT_DOCS${name}_ACCEPT_TOOL=read_document"
    export "PROJECT_DOCS${name}_ACCEPT_ARGS={\"token\":\"tok-carol-5d8841\",\"id\":1}"
    export "PROJECT_DOCS${name}_REJECT_TOOL=read_document"
    export "PROJECT_DOCS${name}_REJECT_ARGS={\"token\":\"tok-forged\",\"id\":1}"
done
CASES=${CASES:-accept reject} SKIP=${SKIP:-fastmcp} bash "$HARNESS"
