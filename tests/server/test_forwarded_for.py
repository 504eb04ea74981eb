"""The router tells subgraphs who the client is (issue 10, finding 9): `x-forwarded-for`
carries the address of whoever connected to the router as its right-most entry, and the
default rules forward it. What a client wrote there itself is dropped; what a proxy the
router trusts (`traffic.trusted_proxies`) wrote is kept, the proxy's address appended."""

from __future__ import annotations

import json

import httpx
import pytest

from router.config import ConfigError, parse_config
from router.server import create_app
from tests.server.echo_subgraph import EchoSubgraphs

QUERY = {"query": "{ alphaHeaders }"}
CLIENT = "203.0.113.5"


async def seen_by_subgraph(
    echo: EchoSubgraphs,
    headers: dict[str, str],
    config: dict[str, object] | None = None,
    peer: str | None = CLIENT,
) -> dict[str, str]:
    app = create_app(echo.router(), config=parse_config(config or {}))
    # the ASGI scope's client, as the server fills it in from the socket (None: unknown)
    transport = httpx.ASGITransport(app=app, client=(peer, 50123) if peer else None)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://router") as client:
        body = (await client.post("/graphql", json=QUERY, headers=headers)).json()
    await app.router.aclose()
    assert "errors" not in body, body
    seen: dict[str, str] = json.loads(body["data"]["alphaHeaders"])
    return seen


async def test_the_client_address_reaches_subgraphs(echo: EchoSubgraphs) -> None:
    seen = await seen_by_subgraph(echo, {})
    assert seen["x-forwarded-for"] == CLIENT


async def test_what_a_client_writes_itself_is_replaced_by_its_address(
    echo: EchoSubgraphs,
) -> None:
    # a client naming other addresses: a subgraph would take the right-most as the client
    seen = await seen_by_subgraph(echo, {"x-forwarded-for": "10.9.8.7, 198.51.100.2"})
    assert seen["x-forwarded-for"] == CLIENT


async def test_a_local_client_is_not_believed_without_configuration(echo: EchoSubgraphs) -> None:
    # loopback and private peers are not proxies unless listed
    seen = await seen_by_subgraph(echo, {"x-forwarded-for": "198.51.100.2"}, peer="127.0.0.1")
    assert seen["x-forwarded-for"] == "127.0.0.1"


@pytest.mark.parametrize(
    ("trusted", "peer"),
    [
        (["203.0.113.5"], CLIENT),
        (["203.0.113.0/24"], CLIENT),
        (["10.0.0.0/8", "::1/128"], "::1"),
        (["127.0.0.1"], "::ffff:127.0.0.1"),
    ],
    ids=["address", "network", "ipv6", "ipv4-mapped"],
)
async def test_a_trusted_proxy_keeps_what_it_sent_with_its_address_appended(
    echo: EchoSubgraphs, trusted: list[str], peer: str
) -> None:
    config = {"traffic": {"trusted_proxies": trusted}}
    seen = await seen_by_subgraph(echo, {"x-forwarded-for": "198.51.100.2"}, config, peer)
    assert seen["x-forwarded-for"] == f"198.51.100.2, {peer}"


async def test_a_trusted_proxy_that_sent_none_is_the_client(echo: EchoSubgraphs) -> None:
    config = {"traffic": {"trusted_proxies": ["203.0.113.0/24"]}}
    seen = await seen_by_subgraph(echo, {}, config)
    assert seen["x-forwarded-for"] == CLIENT


async def test_another_peer_is_not_believed_when_proxies_are_configured(
    echo: EchoSubgraphs,
) -> None:
    config = {"traffic": {"trusted_proxies": ["192.0.2.10"]}}
    seen = await seen_by_subgraph(echo, {"x-forwarded-for": "198.51.100.2"}, config)
    assert seen["x-forwarded-for"] == CLIENT


async def test_without_a_peer_address_the_clients_header_is_dropped(
    echo: EchoSubgraphs,
) -> None:
    seen = await seen_by_subgraph(echo, {"x-forwarded-for": "198.51.100.2"}, peer=None)
    assert "x-forwarded-for" not in seen


async def test_rules_without_it_do_not_forward_it(echo: EchoSubgraphs) -> None:
    seen = await seen_by_subgraph(echo, {}, {"headers": [{"propagate": "authorization"}]})
    assert "x-forwarded-for" not in seen


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    assert parse_config({}).traffic.trusted_proxies == []
    with pytest.raises(ConfigError) as caught:
        parse_config({"traffic": {"trusted_proxies": ["10.0.0.0/8", "lb.internal"]}})
    assert str(caught.value) == (
        "traffic.trusted_proxies[1]: not an IP address or network: 'lb.internal'"
    )
