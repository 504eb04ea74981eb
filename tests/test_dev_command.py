"""`shopgraph dev` as a subprocess on free ports, embedded PostgreSQL in a temp data dir:
one command brings up PostgreSQL, the five subgraphs and the router; Ctrl-C stops it
cleanly; the next start keeps the data and the JWT secret it generated; a port in use is
named; a service killed is restarted while the router serves the others."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from subgraphs.commands.dev import RestartPolicy, Service, Supervisor, exit_reason
from subgraphs.common.auth import ADMIN
from subgraphs.seed import DEMO_USERS
from subgraphs.stack import SUBGRAPHS
from tests.server.dev_stack import (
    MY_ORDERS,
    DevStack,
    free_ports,
    login,
    new_stack,
    product_facts,
    running_stack,
)

# The HS256 secret every service used when SHOPGRAPH_JWT_SECRET was unset, before issue 10.
PUBLISHED_SECRET = "shopgraph-dev-secret-change-me-in-production"
# One query per service that only that service (with products, for inventory) answers.
PROBES = {
    "accounts": "{ me { email } }",
    "products": "{ products(first: 1) { nodes { name } } }",
    "inventory": "{ products(first: 1) { nodes { stock { available } } } }",
    "orders": "{ orders(first: 1) { nodes { id } } }",
    "promotions": "{ activePromotions { code } }",
    "router": "{ me { email } products(first: 1) { nodes { name } } }",
}


@pytest.fixture(scope="session")
def dev_stack(request: pytest.FixtureRequest) -> DevStack:
    return running_stack(request)


def _wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _service_pids(stack: DevStack) -> dict[str, int]:
    """The pid of each service `shopgraph dev` runs, by name (its children, from /proc)."""
    assert stack.process is not None
    pids: dict[str, int] = {}
    for task in Path(f"/proc/{stack.process.pid}/task").iterdir():
        for pid in (task / "children").read_text().split():
            with_args = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
            if with_args[1:3] == ["-m", "subgraphs"]:
                pids[with_args[3]] = int(pid)
            elif with_args[1:4] == ["-m", "router.cli", "router"]:
                pids["router"] = int(pid)
    return pids


def _answers(stack: DevStack, name: str, token: str) -> bool:
    """Whether the router answers `name`'s probe query in full."""
    try:
        body = stack.graphql(PROBES[name], token=token)
    except httpx.HTTPError:
        return False
    if name == "accounts":
        return bool(body.get("data")) and body["data"]["me"] == {"email": "alice@example.com"}
    return "errors" not in body and bool(body.get("data"))


def _lines_since(stack: DevStack, mark: int) -> list[str]:
    return stack.lines[mark:]


def _line_since(stack: DevStack, mark: int, start: str) -> str | None:
    return next((line for line in _lines_since(stack, mark) if line.startswith(start)), None)


def test_banner_shows_progress_playground_and_demo_credentials(dev_stack: DevStack):
    out = dev_stack.output()
    for step in ("[1/4] PostgreSQL", "[2/4] databases", "[3/4] subgraphs", "[4/4] router"):
        assert step in out
    assert f"playground: {dev_stack.router_url}/playground" in out
    router_config = dev_stack.data_dir / "router.yaml"
    assert (
        "Router: verifies the shop's tokens (secret_env: SHOPGRAPH_JWT_SECRET), tokens optional "
        f"({router_config})"
    ) in out
    for user in DEMO_USERS:
        assert f"{user.email} / {user.password}" in out
    assert httpx.get(f"{dev_stack.router_url}/ready").json() == {
        "status": "pass",
        "service": "router",
        "checks": {
            "supergraph": {"status": "pass"},
            **{f"subgraph:{name}": {"status": "pass"} for name in sorted(dev_stack.subgraph_ports)},
        },
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


def test_the_stack_signs_with_a_secret_of_its_own(dev_stack: DevStack):
    token = login(dev_stack, "alice@example.com", "alice-password")
    alice = jwt.decode(token, options={"verify_signature": False})["sub"]
    # An admin token anyone could mint from the source before is refused everywhere.
    forged = jwt.encode(
        {"sub": alice, "role": ADMIN, "iss": "shopgraph", "exp": int(time.time()) + 600},
        PUBLISHED_SECRET,
        algorithm="HS256",
    )
    query = "{ me { email } orders(first: 1) { nodes { id } } }"
    # the router verifies tokens at the edge: refused before any subgraph is asked
    refused = dev_stack.post(query, token=forged)
    assert refused.status_code == 401
    assert refused.json() == {
        "errors": [
            {"message": "Invalid token: Signature verification failed",
             "extensions": {"code": "UNAUTHENTICATED"}}
        ]
    }
    # and each subgraph refuses it too (its port can be reached without the router)
    probes = {"accounts": ("{ me { email } }", "me"), "orders": (PROBES["orders"], "orders")}
    for name, (probe, field) in probes.items():
        direct = httpx.post(
            dev_stack.subgraph_url(name),
            json={"query": probe},
            headers={"authorization": f"Bearer {forged}"},
        ).json()
        assert [(e["path"], e["extensions"]["code"]) for e in direct["errors"]] == [
            ([field], "UNAUTHENTICATED")
        ]

    path = dev_stack.data_dir / "jwt-secret"
    assert f"JWT signing secret: generated in {path} (mode 0600)" in dev_stack.output()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = path.read_text().strip()
    assert len(secret.encode()) >= 32
    assert jwt.decode(token, secret, algorithms=["HS256"], issuer="shopgraph")["sub"] == alice
    assert secret not in dev_stack.output()


def test_a_guest_is_no_one_and_tokens_carry_their_scope(dev_stack: DevStack):
    assert dev_stack.graphql("{ me { email } }") == {"data": {"me": None}}
    secret = (dev_stack.data_dir / "jwt-secret").read_text().strip()
    for user in DEMO_USERS[:2]:
        token = login(dev_stack, user.email, user.password)
        claims = jwt.decode(token, secret, algorithms=["HS256"], issuer="shopgraph")
        assert (claims["role"], claims["scope"]) == (user.role, user.role.lower())
        assert dev_stack.graphql("{ me { email } }", token=token) == {
            "data": {"me": {"email": user.email}}
        }
    expired = jwt.encode(
        {"sub": "x", "role": ADMIN, "scope": "admin", "iss": "shopgraph",
         "exp": int(time.time()) - 60},
        secret,
        algorithm="HS256",
    )
    refused = dev_stack.post("{ me { email } }", token=expired)
    assert (refused.status_code, refused.json()["errors"][0]["extensions"]) == (
        401, {"code": "UNAUTHENTICATED"}
    )


def test_the_router_enforces_the_schemas_scopes_from_the_shops_tokens(dev_stack: DevStack):
    """The edge verification gives the router each caller's scopes: stock counts are the
    staff's (inventory's @requiresScopes), `available` is everyone's."""
    query = "{ products(first: 1) { nodes { stock { available onHand reserved } } } }"
    unauthorized = {"code": "UNAUTHORIZED_FIELD_OR_TYPE"}
    customer = login(dev_stack, "alice@example.com", "alice-password")
    for token in (None, customer):
        body = dev_stack.graphql(query, token=token)
        stock = body["data"]["products"]["nodes"][0]["stock"]
        assert isinstance(stock["available"], int)
        assert (stock["onHand"], stock["reserved"]) == (None, None)
        # the path of a field removed from the query: "@" for a list's items, as Apollo Router
        assert sorted((e["path"], e["extensions"]) for e in body["errors"]) == [
            (["products", "nodes", "@", "stock", "onHand"], unauthorized),
            (["products", "nodes", "@", "stock", "reserved"], unauthorized),
        ]
    admin = login(dev_stack, "admin@shopgraph.dev", "admin-password")
    body = dev_stack.graphql(query, token=admin)
    assert "errors" not in body, body
    stock = body["data"]["products"]["nodes"][0]["stock"]
    assert stock["available"] == stock["onHand"] - stock["reserved"]


@pytest.mark.parametrize("name", [*SUBGRAPHS, "router"])
def test_a_service_killed_comes_back_while_the_rest_keeps_serving(dev_stack: DevStack, name: str):
    token = login(dev_stack, "alice@example.com", "alice-password")
    before = _service_pids(dev_stack)
    assert sorted(before) == sorted([*SUBGRAPHS, "router"])
    mark = len(dev_stack.lines)
    os.kill(before[name], signal.SIGTERM)
    exited = _wait_for(
        lambda: _line_since(dev_stack, mark, f"shopgraph dev: {name} exited ("), 15, "the exit"
    )
    if name != "router":
        # Restarting takes 0.5 s of backoff plus a start: meanwhile it is down, the rest is up.
        assert not _answers(dev_stack, name, token)
        assert _answers(dev_stack, "accounts" if name == "products" else "products", token)
    assert re.fullmatch(
        rf"shopgraph dev: {name} exited \((exit code 0|signal SIGTERM)\); restarting it in "
        r"0.5 s \(attempt 1 of 5 within 60 s\)",
        exited,
    ), exited
    _wait_for(
        lambda: _line_since(dev_stack, mark, f"shopgraph dev: {name} is healthy again ("),
        30,
        f"{name} to be healthy again",
    )
    # The token issued before still works: the restarted service has the same secret.
    _wait_for(lambda: _answers(dev_stack, name, token), 15, f"{name} answering again")
    after = _service_pids(dev_stack)
    assert after == {**before, name: after[name]} and after[name] != before[name]
    assert f"shopgraph dev: {name} restarted (pid {after[name]})" in dev_stack.lines[mark:]
    assert dev_stack.process is not None and dev_stack.process.poll() is None


def test_ctrl_c_stops_everything_and_the_next_start_keeps_data(dev_stack: DevStack):
    secret = (dev_stack.data_dir / "jwt-secret").read_text()
    token = login(dev_stack, "alice@example.com", "alice-password")
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
    path = dev_stack.data_dir / "jwt-secret"
    assert f"JWT signing secret: kept in {path} (mode 0600)" in dev_stack.output()
    assert path.read_text() == secret
    assert dev_stack.graphql("{ me { email } }", token=token) == {
        "data": {"me": {"email": "alice@example.com"}}
    }


def test_an_explicit_secret_wins_and_sigterm_stops_everything():
    stack = new_stack()
    secret = secrets.token_urlsafe(32)
    stack.env = {"SHOPGRAPH_JWT_SECRET": secret}
    stack.start()
    try:
        assert "JWT signing secret: from SHOPGRAPH_JWT_SECRET" in stack.output()
        token = login(stack, "bob@example.com", "bob-password")
        assert jwt.decode(token, secret, algorithms=["HS256"])["role"] == "CUSTOMER"
        assert not (stack.data_dir / "jwt-secret").exists()
    finally:
        assert stack.process is not None
        stack.process.send_signal(signal.SIGTERM)
        code = stack.process.wait(timeout=30)
    assert code == 0
    assert stack.output().rstrip().endswith("stopped.")
    assert secret not in stack.output()


def _flaky(port: int, code: int = 3) -> Service:
    return Service("flaky", port, [sys.executable, "-c", f"import sys; sys.exit({code})"])


def _supervise(supervisor: Supervisor, until: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "the supervisor did not get there in time"
        supervisor.tick(time.monotonic())
        time.sleep(0.01)


def test_a_crash_loop_is_given_up_on_after_the_limit(capsys: pytest.CaptureFixture[str]):
    supervisor = Supervisor(
        "127.0.0.1", dict(os.environ), RestartPolicy(first=0.05, longest=0.1, limit=3, window=30)
    )
    supervisor.spawn(_flaky(free_ports(1)[0]))
    entry = supervisor.entries["flaky"]
    _supervise(supervisor, lambda: entry.gave_up, 30)
    assert supervisor.all_gave_up() and supervisor.processes() == []
    out, err = capsys.readouterr()
    assert err.splitlines() == [
        "shopgraph dev: flaky exited (exit code 3); restarting it in 0.05 s "
        "(attempt 1 of 3 within 30 s)",
        "shopgraph dev: flaky exited (exit code 3); restarting it in 0.1 s "
        "(attempt 2 of 3 within 30 s)",
        "shopgraph dev: flaky exited (exit code 3); restarting it in 0.1 s "
        "(attempt 3 of 3 within 30 s)",
        "shopgraph dev: GIVING UP on flaky: it exited (exit code 3) again after 3 restarts "
        "within 30 s; its output is above. The rest of the stack keeps running without flaky; "
        "fix the cause and start shopgraph dev again.",
    ]
    assert len(re.findall(r"^shopgraph dev: flaky restarted \(pid \d+\)$", out, re.M)) == 3
    gaps = [b - a for a, b in zip(entry.restarts, list(entry.restarts)[1:], strict=False)]
    assert len(gaps) == 2 and gaps[0] >= 0.05 and gaps[1] >= 0.1


def test_restarts_older_than_the_window_are_forgotten(capsys: pytest.CaptureFixture[str]):
    supervisor = Supervisor(
        "127.0.0.1", dict(os.environ), RestartPolicy(first=0.3, longest=0.3, limit=1, window=0.2)
    )
    supervisor.spawn(_flaky(free_ports(1)[0], code=0))
    entry = supervisor.entries["flaky"]
    exits = 0
    deadline = time.monotonic() + 20
    while exits < 3 and time.monotonic() < deadline:
        supervisor.tick(time.monotonic())
        exits += capsys.readouterr().err.count(
            "flaky exited (exit code 0); restarting it in 0.3 s (attempt 1 of 1 within 0.2 s)"
        )
        time.sleep(0.01)
    assert exits == 3 and not entry.gave_up


def test_restart_delays_and_exit_reasons():
    policy = RestartPolicy()
    assert [policy.delay(n) for n in range(1, 8)] == [0.5, 1, 2, 4, 8, 10, 10]
    assert exit_reason(0) == "exit code 0"
    assert exit_reason(-signal.SIGTERM) == "signal SIGTERM"
    assert exit_reason(-signal.SIGKILL) == "signal SIGKILL"
