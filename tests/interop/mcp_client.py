"""The official MCP Python SDK against doc-server over streamable HTTP.

Usage: mcp_client.py URL TOKEN

With the bearer token the SDK lists and calls tools; a viewer's token sees
only the tools its scopes allow; without a token the connection is refused
with 401 and a WWW-Authenticate header naming the protected-resource metadata.
"""

import asyncio
import sys

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client


def client(url, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    http = httpx2.AsyncClient(headers=headers, timeout=30)
    return Client(streamable_http_client(url, http_client=http), raise_exceptions=True)


def check(condition, message):
    if not condition:
        sys.exit(f"FAIL: {message}")
    print(f"ok: {message}")


async def main(url, admin, viewer):
    async with client(url, admin) as session:
        tools = sorted(t.name for t in (await session.list_tools()).tools)
        check(len(tools) == 6, f"admin lists six tools: {tools}")
        for tool in (await session.list_tools()).tools:
            check("token" not in tool.input_schema.get("properties", {}),
                  f"{tool.name}: no token argument over HTTP")
        created = await session.call_tool("create_document", {"title": "sdk", "content": "from python"})
        text = created.content[0].text
        check(not created.is_error and text.startswith("created document id="), f"create_document: {text}")
        doc_id = int(text.rsplit("=", 1)[1])
        read = await session.call_tool("read_document", {"id": doc_id})
        check(not read.is_error and "from python" in read.content[0].text, "read_document returns the content")
        bad = await session.call_tool("read_document", {"id": 0})
        check(bad.is_error and "range" in bad.content[0].text, f"id=0 refused: {bad.content[0].text}")

    async with client(url, viewer) as session:
        tools = sorted(t.name for t in (await session.list_tools()).tools)
        check(tools == ["read_document", "render_document"], f"viewer lists only its tools: {tools}")

    async with httpx2.AsyncClient(timeout=30) as http:
        response = await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                                   headers={"Accept": "application/json, text/event-stream"})
        challenge = response.headers.get("www-authenticate", "")
        check(response.status_code == 401, f"no token: HTTP {response.status_code}")
        check("resource_metadata=" in challenge, f"challenge names the metadata: {challenge}")
        metadata = (await http.get(challenge.split('resource_metadata="', 1)[1].rstrip('"'))).json()
        check("documents:read" in metadata["scopes_supported"], f"metadata scopes: {metadata['scopes_supported']}")

    # The SDK itself, without a token, cannot list anything: the server's
    # 401 (checked above) surfaces as an error from inside its task group.
    listed = None
    try:
        async with client(url) as session:
            listed = await session.list_tools()
    except Exception as error:
        print(f"refused: {leaf(error)!r}")
    check(listed is None, "the SDK without a token is refused")


def leaf(error):
    while getattr(error, "exceptions", None):
        error = error.exceptions[0]
    return error


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
