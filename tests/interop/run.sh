#!/usr/bin/env bash
# Interoperability: the official MCP Python SDK (PyPI `mcp`, pinned below)
# lists and calls doc-server's tools over streamable HTTP with a bearer token,
# and is refused without one. Installs the SDK in a virtualenv under the
# cargo target directory.
set -euo pipefail
cd "$(dirname "$0")/../.."

MCP_VERSION=2.3.0
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
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "mcp==$MCP_VERSION"

cargo build -q -p doc-server --bin doc-server
WORK=$(mktemp -d /tmp/secure-tool-interop.XXXXXX)
"$TARGET/debug/doc-server" --demo --database-url "sqlite://$WORK/docs.db" \
    --http 127.0.0.1:0 2>"$WORK/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT

URL=
for _ in $(seq 1 100); do
    URL=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$WORK/server.log")
    [ -n "$URL" ] && break
    kill -0 $SERVER 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
    sleep 0.1
done
[ -n "$URL" ] || { echo "doc-server did not start"; cat "$WORK/server.log"; exit 1; }

echo "== MCP Python SDK $MCP_VERSION against $URL"
"$VENV/bin/python" tests/interop/mcp_client.py "$URL" tok-alice-9f3a7c tok-carol-5d8841
