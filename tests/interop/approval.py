"""The approval page in a real browser: headless Chromium, driven over the
Chrome DevTools Protocol, with the official MCP Python SDK as the client.

Usage: approval.py URL SCREENSHOT

The SDK (MCP 2026-07-28) asks doc-server to delete a document and is answered
with a question naming the approval page. Chromium opens that page, signs in
as the caller with an approver credential (the client's own token
is refused there), sees the exact action, and approves; the client's retry runs
the deletion, and a second retry is refused. A page opened by another subject
cannot approve, and a form posted to the page from another site is refused.
A screenshot of the page showing the action is written to SCREENSHOT.
"""

import asyncio
import base64
import http.server
import json
import os
import shutil
import sys
import tempfile
import threading

import httpx2
import mcp_types as types
import websockets
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

ALICE = "tok-alice-9f3a7c"
# What a person signs in with on the approval page; the MCP client holds none.
ALICE_APPROVER = "pw-alice-4b8e21"
BOB_APPROVER = "pw-bob-93d0c7"


def check(condition, message):
    if not condition:
        print(f"FAIL: {message}", flush=True)
        sys.exit(1)
    print(f"ok: {message}", flush=True)


class Chromium:
    """A headless Chromium and one DevTools connection to it."""

    async def start(self):
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        if binary is None:
            sys.exit("FAIL: chromium is not installed (Debian package `chromium`)")
        self.profile = tempfile.mkdtemp(prefix="secure-tool-chromium.")
        self.process = await asyncio.create_subprocess_exec(
            binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--no-default-browser-check", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions",
            "--remote-debugging-port=0", f"--user-data-dir={self.profile}", "about:blank",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        while True:
            line = (await asyncio.wait_for(self.process.stderr.readline(), 30)).decode()
            if not line:
                sys.exit("FAIL: chromium exited before listening")
            if "DevTools listening on " in line:
                address = line.split("DevTools listening on ", 1)[1].strip()
                break
        self.socket = await websockets.connect(address, max_size=64 << 20)
        self.next_id = 0
        self.pending = {}
        self.events = []
        self.arrived = asyncio.Event()
        self.reader = asyncio.create_task(self.read())
        return self

    async def read(self):
        async for raw in self.socket:
            message = json.loads(raw)
            if "id" in message and message["id"] in self.pending:
                self.pending.pop(message["id"]).set_result(message)
            else:
                self.events.append(message)
                self.arrived.set()

    async def send(self, method, params=None, session=None):
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        await self.socket.send(json.dumps(message))
        answer = await asyncio.wait_for(future, 30)
        if "error" in answer:
            sys.exit(f"FAIL: {method}: {answer['error']}")
        return answer["result"]

    async def event(self, method, session):
        while True:
            for i, event in enumerate(self.events):
                if event.get("method") == method and event.get("sessionId") == session:
                    return self.events.pop(i)
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), 30)

    async def stop(self):
        self.reader.cancel()
        await self.socket.close()
        self.process.kill()
        await self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


class Tab:
    """A page in a browser context of its own (its own cookies)."""

    @classmethod
    async def open(cls, browser):
        tab = cls()
        tab.browser = browser
        context = await browser.send("Target.createBrowserContext")
        target = await browser.send("Target.createTarget",
                                    {"url": "about:blank", "browserContextId": context["browserContextId"]})
        attached = await browser.send("Target.attachToTarget",
                                      {"targetId": target["targetId"], "flatten": True})
        tab.session = attached["sessionId"]
        await tab.send("Page.enable")
        await tab.send("Runtime.enable")
        return tab

    async def send(self, method, params=None):
        return await self.browser.send(method, params, self.session)

    async def loaded(self, action):
        self.browser.events = [e for e in self.browser.events if e.get("sessionId") != self.session]
        await action
        await self.browser.event("Page.loadEventFired", self.session)

    async def goto(self, url):
        await self.loaded(self.send("Page.navigate", {"url": url}))

    async def eval(self, expression):
        result = await self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result["result"].get("value")

    async def click(self, element_id):
        await self.loaded(self.eval(f"document.getElementById({json.dumps(element_id)}).click()"))

    async def text(self):
        return await self.eval("document.body.innerText")

    async def sign_in(self, token):
        await self.eval(f"document.getElementById('token').value = {json.dumps(token)}")
        await self.click("sign-in")

    async def screenshot(self, path):
        shot = await self.send("Page.captureScreenshot", {"format": "png"})
        with open(path, "wb") as out:
            out.write(base64.b64decode(shot["data"]))


def client(url, token):
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
    return Client(streamable_http_client(url, http_client=http), mode="2026-07-28",
                  elicitation_callback=lambda _ctx, _p: types.ElicitResult(action="accept"))


def text(result):
    return result.content[0].text if result.content else ""


async def delete(session, doc, state=None):
    answers = {"confirm": types.ElicitResult(action="accept")} if state else None
    return await session.session.call_tool(
        "delete_document", {"id": doc, "confirm": True},
        input_responses=answers, request_state=state, allow_input_required=True)


async def ask(session, doc):
    first = await delete(session, doc)
    check(isinstance(first, types.InputRequiredResult), f"delete {doc}: the answer is a question")
    return first.input_requests["confirm"].params.url, first.request_state


def attacker_site(target):
    """A page on another origin whose form posts an approval to `target`."""
    page = (f'<!doctype html><form id="f" method="post" action="{target}/decide">'
            '<input type="hidden" name="decision" value="approve"></form>'
            '<script>document.getElementById("f").submit()</script>').encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


async def main(url, screenshot):
    browser = await Chromium().start()
    try:
        async with client(url, ALICE) as alice:
            made = await alice.call_tool("create_document", {"title": "to delete", "content": "in a browser"})
            doc = int(text(made).rsplit("=", 1)[1])
            page, state = await ask(alice, doc)

            tab = await Tab.open(browser)
            await tab.goto(page)
            shown = await tab.text()
            check("Sign in" in shown and str(doc) not in shown, "the page asks to sign in before it shows anything")
            await tab.sign_in(ALICE)
            shown = await tab.text()
            check("does not sign in" in shown, "the MCP client's own token does not sign in")
            await tab.goto(page)
            await tab.sign_in(ALICE_APPROVER)
            shown = await tab.text()
            check("Signed in as alice" in shown and "delete_document" in shown and f'"id":{doc}' in shown,
                  "signed in, the page shows the exact action")
            await tab.screenshot(screenshot)
            check(os.path.getsize(screenshot) > 1000, f"a screenshot of the page: {screenshot}")
            await tab.click("approve")
            check("You approved this action" in await tab.text(), "the person approves")

            done = await delete(alice, doc, state)
            check(isinstance(done, types.CallToolResult) and not done.is_error and "deleted" in text(done),
                  f"the client's retry runs the deletion: {text(done)}")
            again = await delete(alice, doc, state)
            check(again.is_error and "already used" in text(again), f"a second retry is refused: {text(again)}")

            made = await alice.call_tool("create_document", {"title": "kept", "content": "stays"})
            doc = int(text(made).rsplit("=", 1)[1])
            page, state = await ask(alice, doc)
            other = await Tab.open(browser)
            await other.goto(page)
            await other.sign_in(BOB_APPROVER)
            shown = await other.text()
            has_button = await other.eval("document.getElementById('approve') !== null")
            check("does not sign in to decide this approval" in shown and not has_button,
                  "a page opened by another subject cannot approve")

            signed = await Tab.open(browser)
            await signed.goto(page)
            await signed.sign_in(ALICE_APPROVER)
            site, site_url = attacker_site(page)
            try:
                await signed.goto(site_url)
                shown = await signed.text()
            finally:
                site.shutdown()
            check("Refused" in shown, f"a cross-site form without the page's token is refused: {shown!r}")
            still = await delete(alice, doc, state)
            check(isinstance(still, types.InputRequiredResult), "the action is still waiting for a decision")
            read = await alice.call_tool("read_document", {"id": doc})
            check(not read.is_error, "and the document is still there")
    finally:
        await browser.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
