#!/usr/bin/env bash
# Interoperability: the official MCP Python SDK (PyPI `mcp`, pinned below)
# lists and calls doc-server's tools over streamable HTTP with a bearer token,
# and is refused without one; then drives consent on protocol 2026-07-28 over
# HTTP, against two replicas sharing key and store, and over stdio; the
# approval page in headless Chromium; and doc-server behind a real OpenID
# provider, with the official MCP TypeScript SDK doing the OAuth flow. Installs
# the Python SDK in a virtualenv under the cargo target directory, and the npm
# packages under tests/interop/oauth/node_modules.
set -euo pipefail
cd "$(dirname "$0")/../.."

MCP_VERSION=2.3.0
# The approval page is driven in headless Chromium over the DevTools protocol.
WEBSOCKETS_VERSION=15.0.1
TARGET=${CARGO_TARGET_DIR:-target}
VENV=$TARGET/interop-venv

if [ ! -x "$VENV/bin/python" ]; then
    if ! python3 -m venv "$VENV" 2>/dev/null; then
        echo "== installing python3-venv"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv "$VENV"
    fi
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "mcp==$MCP_VERSION" \
    "websockets==$WEBSOCKETS_VERSION"

cargo build -q -p doc-server -p files-server --bins
WORK=$(mktemp -d /tmp/secure-tool-interop.XXXXXX)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

# Two replicas share the consent key and the store: PostgreSQL when
# DATABASE_URL names one, else one SQLite file.
case "${DATABASE_URL:-}" in
    postgres://*|postgresql://*) STORE=$DATABASE_URL ;;
    *) STORE="sqlite://$WORK/docs.db" ;;
esac
export DOC_SERVER_CONSENT_KEY="interop-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"

# start NAME ARGS…: starts a doc-server over HTTP and sets URL to where it listens.
start() {
    local name=$1
    shift
    "$TARGET/debug/doc-server" --demo --http 127.0.0.1:0 "$@" 2>"$WORK/$name.log" &
    PIDS+=($!)
    URL=
    for _ in $(seq 1 100); do
        URL=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$WORK/$name.log")
        [ -n "$URL" ] && return
        kill -0 "${PIDS[-1]}" 2>/dev/null || { cat "$WORK/$name.log"; exit 1; }
        sleep 0.1
    done
    echo "doc-server $name did not start"
    cat "$WORK/$name.log"
    exit 1
}
start a --database-url "$STORE" --approval-timeout-secs 4
URL_A=$URL
start b --database-url "$STORE" --approval-timeout-secs 4 --keep-documents
URL_B=$URL

echo "== MCP Python SDK $MCP_VERSION against $URL_A"
"$VENV/bin/python" tests/interop/mcp_client.py "$URL_A" tok-alice-9f3a7c tok-carol-5d8841

echo "== a person's approval on 2026-07-28 over HTTP: replicas $URL_A and $URL_B on ${STORE%%:*}"
"$VENV/bin/python" tests/interop/consent.py http "$URL_A" "$URL_B"

echo "== over stdio: a delete cannot reach a person; a write asks the user in-band"
"$VENV/bin/python" tests/interop/consent.py stdio-docs "$TARGET/debug/doc-server" --demo \
    --database-url "sqlite://$WORK/stdio.db" 2>"$WORK/stdio-docs.log"
mkdir -p "$WORK/files"
"$VENV/bin/python" tests/interop/consent.py stdio-files "$WORK/files" "$TARGET/debug/files-server" \
    --demo --root "$WORK/files" --consent-timeout-secs 2 2>"$WORK/stdio-files.log"

echo "== the approval page in headless Chromium"
if ! command -v chromium >/dev/null; then
    echo "== installing chromium"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
# Its own server, with the default time to decide: a browser takes longer.
start c --database-url "sqlite://$WORK/approval.db"
"$VENV/bin/python" tests/interop/approval.py "$URL" "$TARGET/approval-page.png"
echo "== screenshot of the approval page: $TARGET/approval-page.png"

echo "== behind a real OpenID provider: keys, rotation, introspection, and the TypeScript SDK's OAuth flow"
# The provider (npm `oidc-provider`) and the SDK (`@modelcontextprotocol/sdk`)
# at the versions package-lock.json pins.
npm ci --prefix tests/interop/oauth --no-audit --no-fund --loglevel=error
# The provider's clients are the subjects alice (an admin) and carol (a
# viewer); assigning bob writes the editor's grants, which erin reaches by
# the role her tokens claim.
for assignment in "alice admin" "carol viewer" "bob editor"; do
    # shellcheck disable=SC2086
    "$TARGET/debug/doc-server" --database-url "sqlite://$WORK/oauth.db" assign $assignment
done
node tests/interop/oauth/oauth.mjs "$TARGET/debug/doc-server" "sqlite://$WORK/oauth.db" 2>&1 \
    | grep -v '^oidc-provider \(WARNING\|NOTICE\)'
