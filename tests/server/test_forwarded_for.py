"""The router tells subgraphs who the client is (issue 10, finding 9): it appends the address
of whoever connected to it to `x-forwarded-for`, and the default rules forward it."""

from __future__ import annotations

import json

import httpx

from router.config import parse_config
from router.server import create_app
from tests.server.echo_subgraph import EchoSubgraphs

QUERY = {"query": "{ alphaHeaders }"}


async def seen_by_subgraph(
    echo: EchoSubgraphs, headers: dict[str, str], config: dict[str, object] | None = None
) -> dict[str, str]:
    app = create_app(echo.router(), config=parse_config(config or {}))
    transport = httpx.ASGITransport(app=app, client=("203.0.113.5", 50123))
    async with httpx.AsyncClient(transport=transport, base_url="http://router") as client:
        body = (await client.post("/graphql", json=QUERY, headers=headers)).json()
    await app.router.aclose()
    assert "errors" not in body, body
    seen: dict[str, str] = json.loads(body["data"]["alphaHeaders"])
    return seen


async def test_the_client_address_reaches_subgraphs(echo: EchoSubgraphs) -> None:
    seen = await seen_by_subgraph(echo, {})
    assert seen["x-forwarded-for"] == "203.0.113.5"


async def test_the_client_address_is_appended_to_what_the_client_sent(
    echo: EchoSubgraphs,
) -> None:
    seen = await seen_by_subgraph(echo, {"x-forwarded-for": "10.9.8.7, 198.51.100.2"})
    # the last entry is the router's own observation; the rest is the client's word
    assert seen["x-forwarded-for"] == "10.9.8.7, 198.51.100.2, 203.0.113.5"


async def test_rules_without_it_do_not_forward_it(echo: EchoSubgraphs) -> None:
    seen = await seen_by_subgraph(echo, {}, {"headers": [{"propagate": "authorization"}]})
    assert "x-forwarded-for" not in seen
