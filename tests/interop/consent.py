"""Consent on MCP 2026-07-28, driven by the official MCP Python SDK.

Usage:
  consent.py http URL_A URL_B          doc-server replicas sharing key and store
  consent.py stdio-docs COMMAND ARG…   doc-server on stdin/stdout
  consent.py stdio-files ROOT COMMAND ARG…   files-server on stdin/stdout

doc-server's `delete_document` is `confirm = "human"`: a first call is
answered with an InputRequiredResult naming the server's approval page; a
person signs in there as the caller and approves or denies (played here by an
HTTP client going through the page's own forms); the client's retry, with the
sealed requestState, runs the call once after an approval. A denied, replayed
(on either replica), altered, expired or borrowed state, or changed arguments,
are refused. Over stdio no person can be reached, and the call is refused.

files-server's `write_file` is `confirm`: the question is a form the client's
user answers in-band, and the same rules hold for its state.

The replicas under test give a person APPROVAL_SECS seconds to decide, and
files-server gives its user CONSENT_SECS seconds to answer.
"""

import asyncio
import os
import re
import sys
from urllib.parse import urlsplit

import httpx2
import mcp_types as types
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

ALICE = "tok-alice-9f3a7c"
BOB = "tok-bob-2c71e0"
# What a person signs in with on the approval page; the MCP client holds none.
APPROVER = {ALICE: "pw-alice-4b8e21", BOB: "pw-bob-93d0c7"}
WRITER = "tok-files-writer-7b9c3d"
APPROVAL_SECS = 4
CONSENT_SECS = 2
MODE = "2026-07-28"


def check(condition, message):
    if not condition:
        # On stdout: over stdio the server's log shares stderr.
        print(f"FAIL: {message}", flush=True)
        sys.exit(1)
    print(f"ok: {message}", flush=True)


def text(result):
    return result.content[0].text if result.content else ""


def refused(result, reason):
    shown = text(result)
    return result.is_error and shown.startswith("rejected by confirm gate") and reason in shown


async def person(url, credential, decision):
    """A person at the approval page: signs in with `credential`, then
    decides. Returns the page's last answer."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    async with httpx2.AsyncClient(timeout=30, headers={"Origin": origin}) as browser:
        page = await browser.get(url)
        if page.status_code != 200:
            return page
        csrf = re.search(r'name="csrf" value="([0-9a-f]{32})"', page.text).group(1)
        signed = await browser.post(url + "/login", data={"csrf": csrf, "token": credential})
        if signed.status_code != 303:
            return signed
        page = await browser.get(url)
        found = re.search(r'name="csrf" value="([0-9a-f]{32})"', page.text)
        if not found:
            return page
        return await browser.post(url + "/decide", data={"csrf": found.group(1), "decision": decision})


def page_of(question):
    asked = question.input_requests["confirm"].params
    check(asked.mode == "url", f"the question names a page: {asked.url}")
    return asked.url


class Replica:
    """doc-server over streamable HTTP: the token is the bearer header."""

    def __init__(self, url):
        self.url = url

    def connect(self, token, on_page=None):
        async def on_elicit(_ctx, params):
            if on_page is None:
                return types.ElicitResult(action="decline")
            return await on_page(params)

        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
        return Client(streamable_http_client(self.url, http_client=http), mode=MODE,
                      elicitation_callback=on_elicit)


def deciding(token, decision, shown):
    """A client whose user opens the page, where a person decides."""

    async def on_page(params):
        shown.append(params.url)
        await person(params.url, APPROVER[token], decision)
        return types.ElicitResult(action="accept")

    return on_page


async def create(session, title):
    made = await session.call_tool("create_document", {"title": title, "content": "to delete"})
    check(not made.is_error, f"create_document {title}: {text(made)}")
    return int(text(made).rsplit("=", 1)[1])


async def exists(session, doc_id):
    read = await session.call_tool("read_document", {"id": doc_id})
    return not read.is_error


async def ask(session, doc_id):
    first = await session.session.call_tool(
        "delete_document", {"id": doc_id, "confirm": True}, allow_input_required=True)
    check(isinstance(first, types.InputRequiredResult), f"delete {doc_id}: the first answer is a question")
    return page_of(first), first.request_state


def accepted():
    return {"confirm": types.ElicitResult(action="accept")}


async def retry(session, doc_id, state, responses=None):
    return await session.session.call_tool(
        "delete_document", {"id": doc_id, "confirm": True},
        input_responses=accepted() if responses is None else responses, request_state=state,
        allow_input_required=True)


async def over_http(a, b):
    shown = []
    async with a.connect(ALICE, deciding(ALICE, "approve", shown)) as session:
        doc = await create(session, "approved")
        done = await session.call_tool("delete_document", {"id": doc, "confirm": True})
        check(not done.is_error and "deleted" in text(done), f"approved on the page, the SDK's retry runs: {text(done)}")
        check(len(shown) == 1 and "/approve/" in shown[0], f"the user was sent to the page once: {shown}")
        check(not await exists(session, doc), "the approved deletion ran")

    async with a.connect(ALICE, deciding(ALICE, "deny", [])) as session:
        doc = await create(session, "denied")
        done = await session.call_tool("delete_document", {"id": doc, "confirm": True})
        check(refused(done, "the person denied"), f"denied on the page: {text(done)}")
        check(await exists(session, doc), "the denied deletion did not run")

    async with a.connect(ALICE) as session:
        doc = await create(session, "declined")
        done = await session.call_tool("delete_document", {"id": doc, "confirm": True})
        check(refused(done, "did not approve"), f"the user declines to open the page: {text(done)}")

        doc = await create(session, "replayed")
        url, state = await ask(session, doc)
        early = await retry(session, doc, state)
        check(isinstance(early, types.InputRequiredResult), "a retry before the person decides is asked again")
        decided = await person(url, APPROVER[ALICE], "approve")
        check(decided.status_code == 200, f"the person approves: HTTP {decided.status_code}")
        first = await retry(session, doc, state)
        check(not first.is_error, f"the retry after the approval runs: {text(first)}")
        again = await retry(session, doc, state)
        check(refused(again, "already used"), f"the same state replayed: {text(again)}")
        async with b.connect(ALICE) as on_b:
            again = await retry(on_b, doc, state)
            check(refused(again, "already used"), f"and replayed on the other replica: {text(again)}")

        doc = await create(session, "altered")
        url, state = await ask(session, doc)
        await person(url, APPROVER[ALICE], "approve")
        altered = state[:-3] + ("AAA" if not state.endswith("AAA") else "BBB")
        for forged, what in [(altered, "altered"), ("approved", "made up")]:
            done = await retry(session, doc, forged)
            check(refused(done, "not valid"), f"a state {what}: {text(done)}")
        other = await create(session, "other")
        done = await retry(session, other, state)
        check(refused(done, "not valid"), f"the state for other arguments: {text(done)}")
        check(await exists(session, doc) and await exists(session, other), "nothing refused ran")

        # bob may delete what he created; alice's approval is not his.
        async with a.connect(BOB) as bob:
            made = await bob.call_tool("create_document", {"title": "bob's", "content": "his"})
            his = int(text(made).rsplit("=", 1)[1])
            url, state = await ask(session, his)
            mine = await person(url, APPROVER[BOB], "approve")
            check(mine.status_code == 401, f"bob cannot decide alice's question: HTTP {mine.status_code}")
            own = await person(url, ALICE, "approve")
            check(own.status_code == 401, f"the MCP client's own token cannot approve: HTTP {own.status_code}")
            await person(url, APPROVER[ALICE], "approve")
            done = await bob.session.call_tool(
                "delete_document", {"id": his, "confirm": True},
                input_responses=accepted(), request_state=state)
            check(refused(done, "not valid"), f"alice's approved state presented by bob: {text(done)}")
            check(await exists(session, his), "bob's document is still there")

        doc = await create(session, "expired")
        url, state = await ask(session, doc)
        await asyncio.sleep(APPROVAL_SECS + 0.5)
        late = await person(url, APPROVER[ALICE], "approve")
        check(late.status_code == 404, f"the page of an expired approval: HTTP {late.status_code}")
        done = await retry(session, doc, state)
        check(refused(done, "not valid"), f"an expired state: {text(done)}")
        check(await exists(session, doc), "the expired deletion did not run")

    async with a.connect(ALICE) as on_a, b.connect(ALICE) as on_b:
        doc = await create(on_a, "two replicas")
        url, state = await ask(on_a, doc)
        # The person may land on either replica's page: they share the store.
        page_b = b.url.rsplit("/mcp", 1)[0] + urlsplit(url).path
        decided = await person(page_b, APPROVER[ALICE], "approve")
        check(decided.status_code == 200, f"approved on the other replica's page: HTTP {decided.status_code}")
        done = await retry(on_b, doc, state)
        check(not done.is_error, f"a state issued by one replica is honoured by the other: {text(done)}")
        again = await retry(on_a, doc, state)
        check(refused(again, "already used"), f"and replayed on the first it is refused: {text(again)}")


def answering(approve, asked):
    async def on_elicit(_ctx, params):
        asked.append(params.message)
        if approve is None:
            return types.ElicitResult(action="cancel")
        return types.ElicitResult(action="accept", content={"approve": approve})

    return on_elicit


async def docs_over_stdio(command, args):
    params = StdioServerParameters(command=command, args=args)
    async with Client(params, mode=MODE, elicitation_callback=answering(True, [])) as session:
        made = await session.call_tool("create_document", {"token": ALICE, "title": "t", "content": "c"})
        doc = int(text(made).rsplit("=", 1)[1])
        done = await session.call_tool("delete_document", {"token": ALICE, "id": doc, "confirm": True})
        check(refused(done, "no client of this transport can reach"),
              f"over stdio a delete cannot reach a person, and is refused: {text(done)}")


async def files_over_stdio(root, command, args):
    params = StdioServerParameters(command=command, args=args)

    def write(name, content="written"):
        return {"token": WRITER, "path": os.path.join(root, name), "content": content, "confirm": True}

    def written(name):
        path = os.path.join(root, name)
        return os.path.exists(path)

    asked = []
    async with Client(params, mode=MODE, elicitation_callback=answering(True, asked)) as session:
        done = await session.call_tool("write_file", write("approved.txt"))
        check(not done.is_error, f"the user approves the form, the SDK's retry runs: {text(done)}")
        check(len(asked) == 1 and "write_file" in asked[0], f"the user was asked once: {asked}")
        check(written("approved.txt"), "the approved write ran")

        first = await session.session.call_tool("write_file", write("replayed.txt"), allow_input_required=True)
        check(isinstance(first, types.InputRequiredResult), "the first answer is a form")
        state = first.request_state
        yes = {"confirm": types.ElicitResult(action="accept", content={"approve": True})}
        done = await session.session.call_tool("write_file", write("replayed.txt"),
                                               input_responses=yes, request_state=state)
        check(not done.is_error, f"the retry with the approval runs: {text(done)}")
        os.remove(os.path.join(root, "replayed.txt"))
        again = await session.session.call_tool("write_file", write("replayed.txt"),
                                                input_responses=yes, request_state=state)
        check(refused(again, "already used") and not written("replayed.txt"), f"replayed: {text(again)}")

        first = await session.session.call_tool("write_file", write("kept.txt"), allow_input_required=True)
        state = first.request_state
        for args, what in [(write("other.txt"), "for other arguments"),
                           (write("kept.txt", "changed"), "for other content")]:
            done = await session.session.call_tool("write_file", args, input_responses=yes, request_state=state)
            check(refused(done, "not valid"), f"the state {what}: {text(done)}")
        altered = state[:-3] + ("AAA" if not state.endswith("AAA") else "BBB")
        done = await session.session.call_tool("write_file", write("kept.txt"), input_responses=yes,
                                               request_state=altered)
        check(refused(done, "not valid"), f"an altered state: {text(done)}")
        no = {"confirm": types.ElicitResult(action="accept", content={"approve": False})}
        done = await session.session.call_tool("write_file", write("kept.txt"), input_responses=no,
                                               request_state=state)
        check(refused(done, "did not approve"), f"declined: {text(done)}")
        check(not written("kept.txt") and not written("other.txt"), "nothing refused ran")

        first = await session.session.call_tool("write_file", write("late.txt"), allow_input_required=True)
        await asyncio.sleep(CONSENT_SECS + 0.5)
        done = await session.session.call_tool("write_file", write("late.txt"), input_responses=yes,
                                               request_state=first.request_state)
        check(refused(done, "not valid") and not written("late.txt"), f"an expired state: {text(done)}")

    async with Client(params, mode=MODE, elicitation_callback=answering(False, [])) as session:
        done = await session.call_tool("write_file", write("declined.txt"))
        check(refused(done, "did not approve") and not written("declined.txt"), f"declined by the user: {text(done)}")


if __name__ == "__main__":
    kind, rest = sys.argv[1], sys.argv[2:]
    if kind == "http":
        asyncio.run(over_http(Replica(rest[0]), Replica(rest[1])))
    elif kind == "stdio-docs":
        asyncio.run(docs_over_stdio(rest[0], rest[1:]))
    else:
        asyncio.run(files_over_stdio(rest[0], rest[1], rest[2:]))
