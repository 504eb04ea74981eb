"""`shopgraph dev` as a subprocess on free ports, embedded PostgreSQL in a temp data dir:
one command brings up PostgreSQL, the NATS JetStream broker, the SMTP sink, the seven
subgraphs and the router; Ctrl-C stops it cleanly; the next start keeps the data and the
JWT secret it generated; a port in use is named; a service killed is restarted while the
router serves the others; a broker of one's own is used instead of starting one."""

from __future__ import annotations

import os
import re
import secrets
import signal
import smtplib
import socket
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from subgraphs.commands.dev import (
    DevError,
    Layout,
    RestartPolicy,
    Service,
    Supervisor,
    check_ports,
    exit_reason,
    healthy,
    nats_server_binary,
    redacted,
    services,
)
from subgraphs.common.auth import ADMIN
from subgraphs.seed import DEMO_USERS, product_id
from subgraphs.stack import DEFAULT_PORTS, SUBGRAPHS
from tests.server.dev_stack import (
    MY_ORDERS,
    DevStack,
    clean_environment,
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
    "payments": "{ me { orders(first: 1) { nodes { payment { status } } } } }",
    "suggestions": "{ products(first: 1) { nodes { suggestions(first: 1) { id } } } }",
    "router": "{ me { email } products(first: 1) { nodes { name } } }",
}
# The services that are not subgraphs behind the router: asked directly.
INFRA = ("nats", "mail")
STEPS = (
    "[1/6] PostgreSQL",
    "[2/6] databases",
    "[3/6] broker: NATS JetStream",
    "[4/6] mail sink: SMTP",
    "[5/6] subgraphs: " + ", ".join(SUBGRAPHS),
    "[6/6] router",
)


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
            elif with_args[1:3] == ["-m", "subgraphs.mailsink"]:
                pids["mail"] = int(pid)
            elif Path(with_args[0]).name == "nats-server":
                pids["nats"] = int(pid)
    return pids


def _environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")
    return dict(item.partition("=")[::2] for item in raw if item)


def _infra_service(stack: DevStack, name: str) -> Service:
    if name == "nats":
        monitor = stack.infra.nats_monitor
        return Service("nats", stack.infra.nats, [], "/healthz", health_port=monitor)
    return Service("mail", stack.infra.mail, [], check="smtp")


def _answers(stack: DevStack, name: str, token: str) -> bool:
    """Whether the router answers `name`'s probe query in full (the broker and the sink:
    whether they pass their health check)."""
    if name in INFRA:
        return healthy("127.0.0.1", _infra_service(stack, name), timeout=2)
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
    for step in STEPS:
        assert f"{step}" in out
    assert (
        f"[3/6] broker: NATS JetStream: ready at {dev_stack.nats_url}, data in "
        f"{dev_stack.data_dir / 'nats'} ("
    ) in out
    assert (
        f"[4/6] mail sink: SMTP: ready at smtp://127.0.0.1:{dev_stack.infra.mail}, mail in "
        f"{dev_stack.maildir} ("
    ) in out
    assert f"playground: {dev_stack.router_url}/playground" in out
    for name in SUBGRAPHS:
        assert f"    {name:<11} {dev_stack.subgraph_url(name)}" in out
    assert (
        f"  broker:     {dev_stack.nats_url} (JetStream; monitoring "
        f"http://127.0.0.1:{dev_stack.infra.nats_monitor}, data in {dev_stack.data_dir / 'nats'})"
    ) in out
    assert (
        f"  mail:       smtp://127.0.0.1:{dev_stack.infra.mail}; messages land in "
        f"{dev_stack.maildir}/new"
    ) in out
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


def _taken_port_refused(stack: DevStack, port: int) -> subprocess.CompletedProcess[str]:
    """`shopgraph dev` on `stack`'s data folder and ports while `port` is listened on."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", port))
    taken.listen(1)
    try:
        return subprocess.run(
            stack.argv(),
            capture_output=True,
            text=True,
            timeout=60,
            env=clean_environment(os.environ),
        )
    finally:
        taken.close()


@pytest.mark.parametrize(
    ("name", "option"),
    [
        ("inventory", "--subgraph-port"),
        ("nats", "--nats-port/--nats-monitor-port"),
        ("mail", "--mail-port"),
    ],
)
def test_port_in_use_is_named(dev_stack: DevStack, name: str, option: str):
    other = new_stack()
    other.data_dir = dev_stack.data_dir
    port = other.subgraph_ports.get(name) or getattr(other.infra, name)
    done = _taken_port_refused(other, port)
    assert done.returncode == 1
    assert f"port {port} for {name} is not available on 127.0.0.1 (" in done.stderr
    assert f"); stop what uses it or choose another with {option}" in done.stderr
    assert "[1/6]" not in done.stdout  # nothing was started


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


@pytest.mark.parametrize("name", [*INFRA, *SUBGRAPHS, "router"])
def test_a_service_killed_comes_back_while_the_rest_keeps_serving(dev_stack: DevStack, name: str):
    token = login(dev_stack, "alice@example.com", "alice-password")
    before = _service_pids(dev_stack)
    assert sorted(before) == sorted([*INFRA, *SUBGRAPHS, "router"])
    mark = len(dev_stack.lines)
    os.kill(before[name], signal.SIGTERM)
    exited = _wait_for(
        lambda: _line_since(dev_stack, mark, f"shopgraph dev: {name} exited ("), 15, "the exit"
    )
    if name != "router":
        # Restarting takes 0.5 s of backoff plus a start: meanwhile it is down, the rest is up.
        # (The broker and the sink start too fast after it to be seen down reliably.)
        if name not in INFRA:
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
    infra = dev_stack.infra
    for port in [dev_stack.router_port, *dev_stack.subgraph_ports.values(), infra.nats_monitor]:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/health")
    for port in (infra.nats, infra.mail):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()

    dev_stack.start()  # same data dir, same ports
    assert "PostgreSQL: embedded, data in " + str(dev_stack.data_dir) in dev_stack.output()
    assert login(dev_stack, email, "a-long-password")
    path = dev_stack.data_dir / "jwt-secret"
    assert f"JWT signing secret: kept in {path} (mode 0600)" in dev_stack.output()
    assert path.read_text() == secret
    assert dev_stack.graphql("{ me { email } }", token=token) == {
        "data": {"me": {"email": "alice@example.com"}}
    }


def _mail(stack: DevStack, subject: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "t@example.com", "u@example.com", subject
    message.set_content("hello")
    with smtplib.SMTP("127.0.0.1", stack.infra.mail, timeout=10) as smtp:
        smtp.send_message(message)


def _messages(stack: DevStack) -> list[EmailMessage]:
    folder = stack.maildir / "new"
    files = sorted(folder.iterdir()) if folder.is_dir() else []
    return [BytesParser(_class=EmailMessage).parsebytes(f.read_bytes()) for f in files]


def _subjects(stack: DevStack) -> list[str]:
    return [str(message["Subject"]) for message in _messages(stack)]


def test_the_broker_and_the_mail_sink_run_and_every_subgraph_is_wired_to_them(
    dev_stack: DevStack,
):
    monitor = f"http://127.0.0.1:{dev_stack.infra.nats_monitor}"
    assert httpx.get(f"{monitor}/healthz").json() == {"status": "ok"}
    jetstream = httpx.get(f"{monitor}/jsz").json()
    assert jetstream["config"]["store_dir"] == str(dev_stack.data_dir / "nats" / "jetstream")
    pids = _service_pids(dev_stack)
    for name in SUBGRAPHS:
        env = _environment(pids[name])
        assert env["SHOPGRAPH_NATS_URL"] == dev_stack.nats_url, name
    accounts = _environment(pids["accounts"])
    assert (accounts["SHOPGRAPH_SMTP_HOST"], accounts["SHOPGRAPH_SMTP_PORT"]) == (
        "127.0.0.1", str(dev_stack.infra.mail)
    )
    assert _environment(pids["orders"])["SHOPGRAPH_PAYMENTS_URL"] == dev_stack.subgraph_url(
        "payments"
    )
    assert _environment(pids["suggestions"])["SHOPGRAPH_PRODUCTS_URL"] == (
        dev_stack.subgraph_url("products")
    )
    # the sink keeps what it is sent in the data folder, a Maildir (one file per message)
    subject = f"dev-test {uuid.uuid4()}"
    _mail(dev_stack, subject)
    _wait_for(lambda: subject in _subjects(dev_stack), 10, "the message in the Maildir")


def _own_broker(folder: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """A nats-server of the test's own, as a production broker: (process, url, url with
    a token in it)."""
    port, monitor = free_ports(2)
    token = secrets.token_hex(8)
    argv = [nats_server_binary(), "-js", "-sd", str(folder), "-a", "127.0.0.1"]
    argv += ["-p", str(port), "-m", str(monitor), "--auth", token]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    probe = Service("own", port, [], "/healthz", health_port=monitor)
    _wait_for(lambda: healthy("127.0.0.1", probe, timeout=1), 15, "our own nats-server")
    return process, f"nats://127.0.0.1:{port}", f"nats://{token}@127.0.0.1:{port}"


CART = "{ cart { priceDigest total { amount currencyCode } } }"
ADD = """mutation($input: AddToCartInput!) { addToCart(input: $input) { userErrors { code } } }"""
CHECKOUT = """mutation($input: CheckoutInput!) {
  checkout(input: $input) { order { id status } userErrors { code field message } } }"""
PAY = """mutation($input: PayInput!) {
  pay(input: $input) { order { id status } userErrors { code field message } } }"""
ORDER = """query($id: ID!) {
  order(id: $id) { status payment { status gateway amount { amount } } } }"""
SUGGESTIONS = "query($id: ID) { product(id: $id) { suggestions { id } } }"


def _buy(stack: DevStack, token: str, products: list[str]) -> tuple[str, str]:
    """Cart, checkout and pay through the router; (order id, total)."""
    for product in products:
        added = stack.graphql(ADD, {"input": {"productId": product, "quantity": 1}}, token)
        assert added["data"]["addToCart"]["userErrors"] == [], added
    cart = stack.graphql(CART, token=token)["data"]["cart"]
    placed = stack.graphql(CHECKOUT, {"input": {
        "idempotencyKey": str(uuid.uuid4()),
        "expectedTotal": cart["total"],
        "expectedPriceDigest": cart["priceDigest"],
    }}, token)["data"]["checkout"]
    assert placed["userErrors"] == [] and placed["order"]["status"] == "PENDING_PAYMENT", placed
    order_id = placed["order"]["id"]
    paid = stack.graphql(PAY, {"input": {
        "orderId": order_id, "idempotencyKey": str(uuid.uuid4()), "paymentToken": "tok_visa",
    }}, token)["data"]["pay"]
    assert paid == {"order": {"id": order_id, "status": "PAID"}, "userErrors": []}, paid
    return order_id, cart["total"]["amount"]


def test_customers_pay_through_the_router_get_their_mail_and_shape_the_suggestions(
    dev_stack: DevStack,
):
    """The issue's end-to-end check on the stack `shopgraph dev` runs: two customers buy
    the $50 gift card with a coffee; each order is PAID with a CAPTURED fake payment, each
    gets its confirmation in the Maildir, and the coffee joins the card's suggestions
    (whose demo partners were each bought with it 3, 3, 3 and 1 times)."""
    card, coffee = str(product_id("GFT-005")), str(product_id("COF-001"))
    before = [p["id"] for p in dev_stack.graphql(SUGGESTIONS, {"id": card})["data"]["product"][
        "suggestions"
    ]]
    assert coffee not in before and len(before) == 4
    for email, password in (("carol@example.com", "carol-password"),
                            ("bob@example.com", "bob-password")):
        token = login(dev_stack, email, password)
        order_id, total = _buy(dev_stack, token, [card, coffee])
        assert dev_stack.graphql(ORDER, {"id": order_id}, token) == {"data": {"order": {
            "status": "PAID",
            "payment": {"status": "CAPTURED", "gateway": "fake", "amount": {"amount": total}},
        }}}
        subject = f"Your order {order_id.replace('-', '')[:8].upper()} is confirmed"
        mail = _wait_for(
            lambda s=subject: [m for m in _messages(dev_stack) if m["Subject"] == s],
            20, f"the confirmation of {order_id} in {dev_stack.maildir}",
        )
        assert [parseaddr(str(m["To"]))[1] for m in mail] == [email]

    def suggested() -> list[str] | None:
        body = dev_stack.graphql(SUGGESTIONS, {"id": card})
        ids = [p["id"] for p in body["data"]["product"]["suggestions"]]
        return ids if coffee in ids else None

    after = _wait_for(suggested, 20, "the coffee among the card's suggestions")
    assert after == [*before[:3], coffee]


def test_an_explicit_secret_and_broker_win_and_sigterm_stops_everything():
    stack = new_stack()
    secret = secrets.token_urlsafe(32)
    broker, url, with_token = _own_broker(stack.data_dir / "own-nats")
    stack.env = {"SHOPGRAPH_JWT_SECRET": secret, "SHOPGRAPH_NATS_URL": with_token}
    try:
        stack.start()
        try:
            assert "JWT signing secret: from SHOPGRAPH_JWT_SECRET" in stack.output()
            token = login(stack, "bob@example.com", "bob-password")
            assert jwt.decode(token, secret, algorithms=["HS256"])["role"] == "CUSTOMER"
            assert not (stack.data_dir / "jwt-secret").exists()
            # no broker of its own: the subgraphs use ours, and its token is not shown
            redacted = url.replace("nats://", "nats://***@")
            assert f"[3/6] broker: NATS JetStream: using {redacted} (not started here)" in (
                stack.output()
            )
            assert f"  broker:     {redacted}" in stack.output()
            pids = _service_pids(stack)
            assert "nats" not in pids and not (stack.data_dir / "nats").exists()
            for name in SUBGRAPHS:
                assert _environment(pids[name])["SHOPGRAPH_NATS_URL"] == with_token
        finally:
            assert stack.process is not None
            stack.process.send_signal(signal.SIGTERM)
            code = stack.process.wait(timeout=30)
    finally:
        broker.terminate()
        broker.wait(timeout=10)
    assert code == 0
    assert stack.output().rstrip().endswith("stopped.")
    assert secret not in stack.output()
    assert with_token.split("@")[0].removeprefix("nats://") not in stack.output()


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


def _layout(**changes: Any) -> Layout:
    return Layout("127.0.0.1", dict(DEFAULT_PORTS), **changes)


def test_the_broker_and_the_sink_start_first_and_every_subgraph_is_wired_to_them(
    tmp_path: Path,
):
    stack = services(_layout(), tmp_path, "router.yaml")
    assert [s.name for s in stack] == ["nats", "mail", *SUBGRAPHS, "router"]
    nats, mail, router = stack[0], stack[1], stack[-1]
    assert nats.argv == [
        nats_server_binary(), "-js", "-sd", str(tmp_path / "nats"), "-a", "127.0.0.1",
        "-p", "4222", "-m", "8222",
    ]
    assert (nats.ports(), nats.health_url("127.0.0.1")) == (
        [4222, 8222], "http://127.0.0.1:8222/healthz"
    )
    assert mail.argv == [
        sys.executable, "-m", "subgraphs.mailsink", "--host", "127.0.0.1", "--port", "4025",
        "--maildir", str(tmp_path / "mail"),
    ]
    assert (mail.ports(), mail.health_url("127.0.0.1")) == ([4025], "smtp://127.0.0.1:4025")
    urls = {name: f"http://127.0.0.1:{DEFAULT_PORTS[name]}/graphql" for name in SUBGRAPHS}
    for service in stack[2:-1]:
        assert service.env == {
            "SHOPGRAPH_NATS_URL": "nats://127.0.0.1:4222",
            "SHOPGRAPH_SMTP_HOST": "127.0.0.1",
            "SHOPGRAPH_SMTP_PORT": "4025",
            "SHOPGRAPH_INVENTORY_URL": urls["inventory"],
            "SHOPGRAPH_PRODUCTS_URL": urls["products"],
            "SHOPGRAPH_PROMOTIONS_URL": urls["promotions"],
            "SHOPGRAPH_PAYMENTS_URL": urls["payments"],
        }
        assert service.health_url("127.0.0.1") == f"http://127.0.0.1:{service.port}/health"
    assert router.argv[-2:] == ["--config", "router.yaml"]
    assert [router.argv[i + 1] for i, a in enumerate(router.argv) if a == "--subgraph"] == [
        f"{name}={urls[name]}" for name in SUBGRAPHS
    ]


def test_a_broker_url_means_no_broker_of_our_own(tmp_path: Path):
    url = "nats://user:pass@broker.example:4222"
    stack = services(_layout(nats_url=url), tmp_path)
    assert [s.name for s in stack] == ["mail", *SUBGRAPHS, "router"]
    assert {s.env["SHOPGRAPH_NATS_URL"] for s in stack[1:-1]} == {url}


def test_a_port_given_twice_names_both_services(tmp_path: Path):
    # checked before any port is tried: the default ones may well be in use here
    stack = services(_layout(nats_monitor=DEFAULT_PORTS["orders"]), tmp_path)
    with pytest.raises(DevError) as twice:
        check_ports("127.0.0.1", stack)
    assert str(twice.value) == (
        f"orders and nats are both configured for port {DEFAULT_PORTS['orders']}"
    )


def test_a_broker_url_is_shown_without_its_credentials():
    assert redacted("nats://127.0.0.1:4222") == "nats://127.0.0.1:4222"
    assert redacted("nats://u:secret@nats.example:4222") == "nats://***@nats.example:4222"
    assert redacted("tls://s3cr3t-token@nats.example") == "tls://***@nats.example"
