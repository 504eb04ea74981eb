"""Real client libraries subscribing through the router: graphql-ws (graphql-transport-ws)
and graphql-sse (distinct connections), run as node scripts (tests/clients/
subscribe_ws.mjs and subscribe_sse.mjs) against the router's real server over the
Strawberry test subgraphs; each event is completed from both subgraphs."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.subscription_graph import (
    HUB,
    REVIEW_QUERY,
    SECRET,
    WAIT,
    review,
    running,
    serve_subgraphs,
    token,
    wait_until,
)

CLIENTS = Path(__file__).resolve().parents[1] / "clients"
pytestmark = pytest.mark.skipif(
    shutil.which("node") is None
    or not (CLIENTS / "node_modules" / "graphql-ws").is_dir()
    or not (CLIENTS / "node_modules" / "graphql-sse").is_dir(),
    reason="node and tests/clients/node_modules are installed by `shopgraph test`",
)
Subgraphs = Any
JWT = {"auth": {"jwt": {"secret": SECRET}}, "authorization": {"require_authentication": True}}
EVENT = {
    "reviewAdded": {
        "body": "great",
        "viewer": None,  # set per test: the token the router forwarded
        "product": {"name": "Chair", "price": 120},
    }
}


@pytest.fixture(scope="module")
def subgraphs() -> Iterator[Subgraphs]:
    """The reviews and products subgraphs, for the whole module."""
    yield from serve_subgraphs()


async def _subscribe(script: str, url: str, bearer: str) -> list[dict[str, Any]]:
    """Run the script; once subscribed, publish one review and complete the stream;
    the JSON lines it printed."""
    process = await asyncio.create_subprocess_exec(
        "node",
        str(CLIENTS / script),
        url,
        REVIEW_QUERY,
        bearer,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await wait_until(lambda: HUB.active == 1)
        HUB.publish("p1", review("great"))
        HUB.publish("p1", None)
        out, err = await asyncio.wait_for(process.communicate(), WAIT)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    return [json.loads(line) for line in out.decode().splitlines()]


def _expected(bearer: str) -> list[dict[str, Any]]:
    event = {"reviewAdded": {**EVENT["reviewAdded"], "viewer": bearer}}
    return [{"connected": True}, {"next": {"data": event}}, {"complete": True}]


async def test_graphql_ws_client_receives_completed_events(subgraphs: Subgraphs) -> None:
    bearer = token()
    with running(subgraphs, JWT) as stack:
        lines = await _subscribe("subscribe_ws.mjs", stack.ws_url, bearer)
    assert lines == _expected(bearer)


async def test_graphql_sse_client_receives_completed_events(subgraphs: Subgraphs) -> None:
    bearer = token()
    with running(subgraphs, JWT) as stack:
        lines = await _subscribe("subscribe_sse.mjs", stack.http_url, bearer)
    assert lines == _expected(bearer)
