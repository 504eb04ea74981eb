"""`shopgraph dev` as a subprocess on free ports, embedded PostgreSQL in a temp data dir:
one command brings up PostgreSQL, the four subgraphs and the router; Ctrl-C stops it
cleanly; the next start keeps the data; a port in use is named."""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid

import httpx
import pytest

from subgraphs.seed import DEMO_USERS
from tests.server.dev_stack import (
    MY_ORDERS,
    DevStack,
    free_ports,
    login,
    product_facts,
    running_stack,
)


@pytest.fixture(scope="session")
def dev_stack(request: pytest.FixtureRequest) -> DevStack:
    return running_stack(request)


def test_banner_shows_progress_playground_and_demo_credentials(dev_stack: DevStack):
    out = dev_stack.output()
    for step in ("[1/4] PostgreSQL", "[2/4] databases", "[3/4] subgraphs", "[4/4] router"):
        assert step in out
    assert f"playground: {dev_stack.router_url}/playground" in out
    for user in DEMO_USERS:
        assert f"{user.email} / {user.password}" in out
    assert httpx.get(f"{dev_stack.router_url}/ready").json() == {
        "status": "READY",
        "supergraph": True,
        "subgraphs": {name: "UP" for name in sorted(dev_stack.subgraph_ports)},
    }


def test_router_joins_orders_products_and_stock(dev_stack: DevStack):
    token = login(dev_stack, "alice@example.com", "alice-password")
    body = dev_stack.graphql(MY_ORDERS, token=token)
    assert "errors" not in body, body
    me = body["data"]["me"]
    assert me["email"] == "alice@example.com"
    lines = [line for order in me["orders"]["nodes"] for line in order["lines"]]
    assert lines, "the demo shop gives alice past orders"
    facts = product_facts(dev_stack, sorted({line["product"]["id"] for line in lines}))
    for line in lines:
        product = line["product"]
        name, available = facts[product["id"]]
        assert product["name"] == name  # from products
        assert product["stock"] == {"available": available}  # from inventory
        assert product["price"]["currencyCode"] == "USD"


def test_port_in_use_is_named(dev_stack: DevStack):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    others = free_ports(4)
    try:
        done = subprocess.run(
            [
                sys.executable, "-m", "router.cli", "dev",
                "--data-dir", str(dev_stack.data_dir),
                "--router-port", str(others[0]),
                "--subgraph-port", f"accounts={others[1]}",
                "--subgraph-port", f"products={others[2]}",
                "--subgraph-port", f"inventory={port}",
                "--subgraph-port", f"orders={others[3]}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        taken.close()
    assert done.returncode == 1
    assert f"port {port} for inventory is not available" in done.stderr
    assert "[1/4]" not in done.stdout  # nothing was started


def test_ctrl_c_stops_everything_and_the_next_start_keeps_data(dev_stack: DevStack):
    email = f"dev-{uuid.uuid4().hex[:8]}@example.com"
    registered = dev_stack.graphql(
        "mutation($input: RegisterInput!) "
        "{ register(input: $input) { token userErrors { code } } }",
        {"input": {"email": email, "password": "a-long-password", "name": "Dev Test"}},
    )
    assert registered["data"]["register"]["userErrors"] == [], registered

    code, _ = dev_stack.stop()
    assert code == 0
    assert dev_stack.output().rstrip().endswith("stopped.")
    for port in [dev_stack.router_port, *dev_stack.subgraph_ports.values()]:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/health")

    dev_stack.start()  # same data dir, same ports
    assert "PostgreSQL: embedded, data in " + str(dev_stack.data_dir) in dev_stack.output()
    assert login(dev_stack, email, "a-long-password")
