"""Consent on MCP 2026-07-28, driven by the official MCP Python SDK.

Usage:
  consent.py http URL_A URL_B    two doc-server replicas sharing key and store
  consent.py stdio COMMAND ARG…  one doc-server on stdin/stdout

`delete_document` answers a first call with an InputRequiredResult; the SDK
asks its user (the elicitation callback) and retries with the answer and the
sealed requestState. The retry runs the call once; a declined answer, a
replayed, altered, expired or borrowed state, or changed arguments are refused.
The server under test gives a user CONSENT_SECS seconds to answer.
"""

import asyncio
import sys

import httpx2
import mcp_types as types
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

ALICE = "tok-alice-9f3a7c"
BOB = "tok-bob-2c71e0"
CONSENT_SECS = 2
MODE = "2026-07-28"


def check(condition, message):
    if not condition:
        sys.exit(f"FAIL: {message}")
    print(f"ok: {message}")


def answering(approve, asked):
    async def on_elicit(_ctx, params):
        asked.append(params.message)
        if approve is None:
            return types.ElicitResult(action="cancel")
        return types.ElicitResult(action="accept", content={"approve": approve})

    return on_elicit


class Http:
    """Replicas over streamable HTTP: the token is the bearer header."""

    def __init__(self, url):
        self.url = url

    def connect(self, token, approve=True, asked=None):
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
        return Client(streamable_http_client(self.url, http_client=http), mode=MODE,
                      elicitation_callback=answering(approve, [] if asked is None else asked))

    def args(self, _token, **args):
        return args


class Stdio:
    """One server on stdin/stdout: the token is an argument of scoped tools."""

    def __init__(self, command, args):
        self.params = StdioServerParameters(command=command, args=args)

    def connect(self, _token, approve=True, asked=None):
        return Client(self.params, mode=MODE,
                      elicitation_callback=answering(approve, [] if asked is None else asked))

    def args(self, token, **args):
        return {**args, "token": token}


def text(result):
    return result.content[0].text if result.content else ""


def refused(result, reason):
    shown = text(result)
    return result.is_error and shown.startswith("rejected by confirm gate") and reason in shown


async def create(session, server, title, token=ALICE):
    made = await session.call_tool("create_document", server.args(token, title=title, content="to delete"))
    check(not made.is_error, f"create_document {title}: {text(made)}")
    return int(text(made).rsplit("=", 1)[1])


async def exists(session, server, doc_id):
    read = await session.call_tool("read_document", server.args(ALICE, id=doc_id))
    return not read.is_error


def accept():
    return {"confirm": types.ElicitResult(action="accept", content={"approve": True})}


async def ask(session, server, doc_id, token=ALICE):
    first = await session.session.call_tool(
        "delete_document", server.args(token, id=doc_id, confirm=True), allow_input_required=True)
    check(isinstance(first, types.InputRequiredResult), f"delete {doc_id}: the first answer is a question")
    return first.request_state


async def retry(session, server, doc_id, state, token=ALICE, responses=None):
    return await session.session.call_tool(
        "delete_document", server.args(token, id=doc_id, confirm=True),
        input_responses=accept() if responses is None else responses, request_state=state)


async def scenarios(a, b):
    asked = []
    async with a.connect(ALICE, approve=True, asked=asked) as session:
        doc = await create(session, a, "approved")
        done = await session.call_tool("delete_document", a.args(ALICE, id=doc, confirm=True))
        check(not done.is_error and "deleted" in text(done), f"approved: {text(done)}")
        check(len(asked) == 1 and "delete_document" in asked[0], f"the user was asked once: {asked}")
        check(not await exists(session, a, doc), "the approved deletion ran")

    async with a.connect(ALICE, approve=False) as session:
        doc = await create(session, a, "declined")
        done = await session.call_tool("delete_document", a.args(ALICE, id=doc, confirm=True))
        check(refused(done, "did not approve"), f"declined: {text(done)}")
        check(await exists(session, a, doc), "the declined deletion did not run")

    async with a.connect(ALICE) as session:
        doc = await create(session, a, "replayed")
        state = await ask(session, a, doc)
        first = await retry(session, a, doc, state)
        check(not first.is_error, f"the retry with the approval runs: {text(first)}")
        again = await retry(session, a, doc, state)
        check(refused(again, "already used"), f"the same state replayed: {text(again)}")

        doc = await create(session, a, "altered")
        state = await ask(session, a, doc)
        altered = state[:-3] + ("AAA" if not state.endswith("AAA") else "BBB")
        for forged, what in [(altered, "altered"), ("approved", "made up")]:
            done = await retry(session, a, doc, forged)
            check(refused(done, "not valid"), f"a state {what}: {text(done)}")
        other = await create(session, a, "other")
        done = await retry(session, a, other, state)
        check(refused(done, "not valid"), f"the state for other arguments: {text(done)}")
        declined = {"confirm": types.ElicitResult(action="decline")}
        done = await retry(session, a, doc, state, responses=declined)
        check(refused(done, "did not approve"), f"the state with a declined answer: {text(done)}")
        check(await exists(session, a, doc) and await exists(session, a, other), "nothing refused ran")

        # bob may delete what he created; alice's approval is not his.
        async with a.connect(BOB) as bob:
            his = await create(bob, a, "bob's", token=BOB)
            state = await ask(session, a, his)
            done = await retry(bob, a, his, state, token=BOB)
            check(refused(done, "not valid"), f"alice's state presented by bob: {text(done)}")
            check(await exists(session, a, his), "bob's document is still there")

        doc = await create(session, a, "expired")
        state = await ask(session, a, doc)
        await asyncio.sleep(CONSENT_SECS + 0.5)
        done = await retry(session, a, doc, state)
        check(refused(done, "expired"), f"an expired state: {text(done)}")

    if b is None:
        return
    async with a.connect(ALICE) as on_a, b.connect(ALICE) as on_b:
        doc = await create(on_a, a, "two replicas")
        state = await ask(on_a, a, doc)
        done = await retry(on_b, b, doc, state)
        check(not done.is_error, f"a state issued by one replica is honoured by the other: {text(done)}")
        again = await retry(on_a, a, doc, state)
        check(refused(again, "already used"), f"and replayed on the first it is refused: {text(again)}")
        doc = await create(on_b, b, "two replicas, reversed")
        state = await ask(on_b, b, doc)
        first = await retry(on_b, b, doc, state)
        check(not first.is_error, f"spent on the replica that asked: {text(first)}")
        again = await retry(on_a, a, doc, state)
        check(refused(again, "already used"), f"replayed on the other replica: {text(again)}")


if __name__ == "__main__":
    kind, rest = sys.argv[1], sys.argv[2:]
    if kind == "http":
        asyncio.run(scenarios(Http(rest[0]), Http(rest[1])))
    else:
        asyncio.run(scenarios(Stdio(rest[0], rest[1:]), None))
