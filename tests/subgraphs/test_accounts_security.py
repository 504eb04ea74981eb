"""accounts security (issue 10, finding 9): sign-in throttling, password policy, unknown emails.

Throttling is checked on the stack's own accounts server (default limits) and
on extra accounts servers over the same database with small limits, a
counting argon2 hasher (argon2-cffi's real PasswordHasher, subclassed only to
count what it verifies and hashes) and chosen trusted hops. The test client
connects from 127.0.0.1, a trusted hop by default, so `X-Forwarded-For` plays
the router telling accounts who the client was. The client address through a
real `shopgraph router` process is checked at the end of the throttling part.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from argon2 import PasswordHasher, extract_parameters
from subgraph_stack import CODEC, Stack

from subgraphs.accounts.client_address import TrustedProxies
from subgraphs.accounts.passwords import password_problem
from subgraphs.accounts.throttle import LoginLimits
from subgraphs.common.serve import RunningServer, start_server
from subgraphs.seed import DEMO_USERS
from subgraphs.stack import create_app
from tests.paths import SCHEMA_DIR

REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) { token user { id } userErrors { code field message } }
}
"""
LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) { token user { id } userErrors { code field message } }
}
"""
GOOD_PASSWORD = "correct horse battery"
WRONG = {"code": "INVALID_CREDENTIALS", "field": None, "message": "Wrong email or password"}


class CountingHasher(PasswordHasher):
    """argon2-cffi's hasher, recording the hashes it verifies against and counting hashings."""

    def __init__(self) -> None:
        super().__init__()
        self.verified: list[str] = []
        self.hashed = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Any:
        self.verified.append(hash if isinstance(hash, str) else hash.decode())
        return super().verify(hash, password)

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.hashed += 1
        return super().hash(password, salt=salt)

    def reset(self) -> None:
        self.verified.clear()
        self.hashed = 0


async def start_accounts(
    stack: Stack,
    limits: LoginLimits,
    hasher: PasswordHasher | None = None,
    proxies: TrustedProxies | None = None,
) -> RunningServer:
    app = create_app(
        "accounts",
        stack.database_urls["accounts"],
        codec=CODEC,
        hasher=hasher,
        login_limits=limits,
        trusted_proxies=proxies,
    )
    return await start_server(app)


@pytest_asyncio.fixture
async def counting(stack: Stack) -> AsyncIterator[tuple[RunningServer, CountingHasher]]:
    """An accounts server allowing 3 failures per account and 5 per address."""
    hasher = CountingHasher()
    server = await start_accounts(stack, LoginLimits(3, 5, 900), hasher)
    yield server, hasher
    await server.stop()


async def post(
    stack: Stack, url: str, query: str, variables: dict[str, Any], client: str | None = None
) -> dict[str, Any]:
    headers = {"X-Forwarded-For": client} if client else {}
    response = await stack.http.post(
        url, json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def register(stack: Stack, url: str, email: str, password: str = GOOD_PASSWORD) -> str:
    body = await post(
        stack, url, REGISTER, {"input": {"email": email, "password": password, "name": "Ann"}}
    )
    assert body["data"]["register"]["userErrors"] == [], body
    user_id: str = body["data"]["register"]["user"]["id"]
    return user_id


async def login(
    stack: Stack, url: str, email: str, password: str, client: str | None = "203.0.113.7"
) -> dict[str, Any]:
    return await post(stack, url, LOGIN, {"input": {"email": email, "password": password}}, client)


def outcome(body: dict[str, Any]) -> str:
    """ "ok", "wrong" (INVALID_CREDENTIALS) or "throttled" (TOO_MANY_REQUESTS, checked whole)."""
    if "errors" in body:
        assert body["data"] is None
        [error] = body["errors"]
        retry = error["extensions"]["retryAfter"]
        assert error["extensions"] == {"code": "TOO_MANY_REQUESTS", "retryAfter": retry}
        assert isinstance(retry, int) and 1 <= retry <= 900, retry
        assert error["message"] == (
            f"Too many failed sign-in attempts; try again in {retry} seconds"
        )
        assert error["path"] == ["login"]
        return "throttled"
    payload = body["data"]["login"]
    if payload["token"] is not None:
        assert payload["userErrors"] == []
        return "ok"
    assert payload == {"token": None, "user": None, "userErrors": [WRONG]}
    return "wrong"


# -- throttling ---------------------------------------------------------------------------


async def test_forty_parallel_wrong_passwords_then_the_right_one_is_throttled(
    stack: Stack,
) -> None:
    url = stack.url("accounts")  # the default limit: 10 failures per account in 15 minutes
    await register(stack, url, "victim@example.com")
    # Forty attackers, forty addresses: only the per-account limit applies.
    bodies = await asyncio.gather(
        *(
            login(stack, url, "victim@example.com", f"guess number {i}", f"198.18.0.{i}")
            for i in range(40)
        )
    )
    outcomes = [outcome(body) for body in bodies]
    assert outcomes.count("wrong") == 10
    assert outcomes.count("throttled") == 30
    right = await login(stack, url, "victim@example.com", GOOD_PASSWORD, "192.0.2.55")
    assert outcome(right) == "throttled"
    rows = await stack.sql("accounts", "SELECT scope, count(*) AS n FROM login_failures GROUP BY 1")
    assert sorted((r.scope, r.n) for r in rows) == [("account", 10), ("address", 10)]


async def test_throttled_attempts_are_refused_before_any_argon2_verification(
    stack: Stack, counting: tuple[RunningServer, CountingHasher]
) -> None:
    server, hasher = counting
    await register(stack, server.graphql_url, "ann@example.com")
    hasher.reset()
    bodies = await asyncio.gather(
        *(
            login(stack, server.graphql_url, "ann@example.com", "not it at all", f"198.18.1.{i}")
            for i in range(12)
        )
    )
    assert sorted(outcome(body) for body in bodies) == ["throttled"] * 9 + ["wrong"] * 3
    assert len(hasher.verified) == 3


async def test_a_successful_sign_in_resets_the_account_counter(
    stack: Stack, counting: tuple[RunningServer, CountingHasher]
) -> None:
    server, _ = counting
    url = server.graphql_url
    await register(stack, url, "ann@example.com")
    for _ in range(2):
        assert outcome(await login(stack, url, "ann@example.com", "mistyped password")) == "wrong"
    assert outcome(await login(stack, url, "ann@example.com", GOOD_PASSWORD)) == "ok"
    rows = await stack.sql("accounts", "SELECT scope FROM login_failures ORDER BY id")
    # the account's failures are gone; the address keeps its two failures, not the success
    assert [r.scope for r in rows] == ["address", "address"]
    results = [await login(stack, url, "ann@example.com", "mistyped again") for _ in range(4)]
    assert [outcome(r) for r in results] == ["wrong", "wrong", "wrong", "throttled"]


async def test_one_address_is_throttled_across_different_emails(
    stack: Stack, counting: tuple[RunningServer, CountingHasher]
) -> None:
    server, _ = counting
    url = server.graphql_url
    await register(stack, url, "ann@example.com")
    spray = [
        await login(stack, url, f"user{i}@example.com", "password spray", "198.51.100.9")
        for i in range(5)
    ]
    assert [outcome(body) for body in spray] == ["wrong"] * 5
    assert outcome(await login(stack, url, "new@example.com", "x", "198.51.100.9")) == "throttled"
    # even the right password, from that address
    assert outcome(await login(stack, url, "ann@example.com", GOOD_PASSWORD, "198.51.100.9")) == (
        "throttled"
    )
    # another client is not affected
    assert outcome(await login(stack, url, "ann@example.com", GOOD_PASSWORD, "198.51.100.10")) == (
        "ok"
    )


async def test_forwarded_for_counts_only_from_a_trusted_hop(stack: Stack) -> None:
    # Only 192.0.2.1 may state the client's address; the test client (127.0.0.1) may not.
    server = await start_accounts(
        stack, LoginLimits(3, 5, 900), None, TrustedProxies.parse("192.0.2.1")
    )
    try:
        bodies = [
            await login(stack, server.graphql_url, f"u{i}@example.com", "x", f"203.0.113.{i}")
            for i in range(6)
        ]
    finally:
        await server.stop()
    assert [outcome(body) for body in bodies] == ["wrong"] * 5 + ["throttled"]
    rows = await stack.sql(
        "accounts", "SELECT DISTINCT subject FROM login_failures WHERE scope = 'address'"
    )
    assert [r.subject for r in rows] == ["127.0.0.1"]


async def test_workers_share_the_counts_through_postgresql(stack: Stack) -> None:
    # Two app instances (as two worker processes would be), each with its own pool.
    servers = [await start_accounts(stack, LoginLimits(4, 100, 900)) for _ in range(2)]
    try:
        await register(stack, servers[0].graphql_url, "ann@example.com")
        bodies = await asyncio.gather(
            *(
                login(stack, servers[i % 2].graphql_url, "ann@example.com", f"guess {i}")
                for i in range(12)
            )
        )
    finally:
        for server in servers:
            await server.stop()
    assert sorted(outcome(body) for body in bodies) == ["throttled"] * 8 + ["wrong"] * 4


def test_client_address_is_the_last_untrusted_hop() -> None:
    proxies = TrustedProxies.parse("127.0.0.1, 10.0.0.0/8")
    assert proxies.client("127.0.0.1", "1.2.3.4, 203.0.113.9") == "203.0.113.9"
    assert proxies.client("127.0.0.1", "1.2.3.4, 203.0.113.9, 10.1.2.3") == "203.0.113.9"
    assert proxies.client("127.0.0.1", None) == "127.0.0.1"
    assert proxies.client("127.0.0.1", "not-an-ip, 10.0.0.7") == "10.0.0.7"
    assert proxies.client("198.51.100.1", "1.2.3.4") == "198.51.100.1"
    assert proxies.client("::ffff:127.0.0.1", "2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert proxies.client(None, "1.2.3.4") == "unknown"
    with pytest.raises(ValueError, match="SHOPGRAPH_TRUSTED_PROXIES: 'router' is not an IP"):
        TrustedProxies.parse("127.0.0.1,router")


def test_by_default_only_the_entry_the_peer_wrote_is_believed() -> None:
    # Unset, the private ranges are trusted as the router's address, but they hold
    # clients too: an entry further left is nobody's word but the client's.
    proxies = TrustedProxies.from_env({})
    assert proxies.client("127.0.0.1", "203.0.113.9, 10.0.0.7") == "10.0.0.7"
    assert proxies.client("10.0.0.5", "203.0.113.9, 192.168.1.20") == "192.168.1.20"
    assert proxies.client("127.0.0.1", "203.0.113.9") == "203.0.113.9"
    assert proxies.client("198.51.100.1", "203.0.113.9") == "198.51.100.1"
    # listing hops explicitly lets the walk go past them
    listed = TrustedProxies.from_env({"SHOPGRAPH_TRUSTED_PROXIES": "127.0.0.1,10.0.0.7"})
    assert listed.client("127.0.0.1", "203.0.113.9, 10.0.0.7") == "203.0.113.9"


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ("203.0.113.9:51234", "203.0.113.9"),
        ("[2001:db8:1:2::9]:443", "2001:db8:1:2::/64"),
        ("[2001:db8:1:2::9]", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::9", "2001:db8:1:2::/64"),
        (" 203.0.113.9 ", "203.0.113.9"),
        ("[::ffff:203.0.113.9]:80", "203.0.113.9"),
        ("203.0.113.9:51234:1", "127.0.0.1"),  # garbage: the peer is the client
        ("[2001:db8::1:443", "127.0.0.1"),
        ("unknown", "127.0.0.1"),
    ],
)
def test_forwarded_entries_with_ports_are_addresses(entry: str, key: str) -> None:
    assert TrustedProxies.from_env({}).client("127.0.0.1", entry) == key


# -- through the router -------------------------------------------------------------------


@asynccontextmanager
async def router_in_front(accounts_url: str, traffic: dict[str, Any]) -> AsyncIterator[str]:
    """`shopgraph router` as deployed (its own process, uvicorn) on the shop's supergraph,
    reaching `accounts_url` for accounts; yields its /graphql URL."""
    folder = Path(tempfile.mkdtemp(prefix="sgrouter-"))
    config = {
        "supergraph": str(SCHEMA_DIR / "supergraph.graphql"),
        "subgraphs": {"accounts": {"url": accounts_url}},
        "traffic": traffic,
    }
    (folder / "router.yaml").write_text(json.dumps(config))  # JSON is YAML
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = [sys.executable, "-m", "router.cli", "router", "--config", str(folder / "router.yaml")]
    argv += ["--listen", f"127.0.0.1:{port}", "--poll-interval", "0"]
    log = folder / "router.log"
    with log.open("wb") as output:
        process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            for _ in range(300):
                assert process.poll() is None, log.read_text()
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(f"{url}/health")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("shopgraph router did not start within 30 s")
        yield f"{url}/graphql"
    finally:
        process.terminate()
        process.wait(timeout=30)


async def login_via(stack: Stack, router_url: str, email: str, forwarded_for: str) -> str:
    """A wrong-password sign-in through the router claiming to come from `forwarded_for`."""
    body = await post(
        stack, router_url, LOGIN, {"input": {"email": email, "password": "x"}}, forwarded_for
    )
    for error in body.get("errors", []):  # what the router adds to a subgraph's error
        assert error["extensions"].pop("serviceName") == "accounts"
    return outcome(body)


async def address_subjects(stack: Stack) -> list[str]:
    rows = await stack.sql(
        "accounts",
        "SELECT DISTINCT subject FROM login_failures WHERE scope = 'address'",
    )
    return sorted(r.subject for r in rows)


async def test_through_the_router_a_local_client_cannot_name_another_address(
    stack: Stack,
) -> None:
    # The default everywhere: accounts believes the router (on loopback) for the entry it
    # wrote, the router believes nobody. The client, on 127.0.0.1 too, names other
    # addresses to spread its guesses (or to lock someone else's address out).
    accounts = await start_accounts(
        stack, LoginLimits(3, 2, 900), None, TrustedProxies.from_env({})
    )
    try:
        async with router_in_front(accounts.graphql_url, {}) as router_url:
            outcomes = [
                await login_via(stack, router_url, f"u{i}@example.com", f"203.0.113.{9 + i}")
                for i in range(3)
            ]
    finally:
        await accounts.stop()
    assert outcomes == ["wrong", "wrong", "throttled"]
    assert await address_subjects(stack) == ["127.0.0.1"]


async def test_through_a_trusted_proxy_the_forwarded_address_counts(stack: Stack) -> None:
    # The test client plays a load balancer on 127.0.0.1, trusted by the router and
    # listed (with the router, also 127.0.0.1) for accounts.
    proxies = TrustedProxies.parse("127.0.0.1")
    accounts = await start_accounts(stack, LoginLimits(3, 2, 900), None, proxies)
    try:
        async with router_in_front(
            accounts.graphql_url, {"trusted_proxies": ["127.0.0.1/32"]}
        ) as router_url:
            outcomes = [
                await login_via(stack, router_url, f"u{i}@example.com", client)
                for i, client in enumerate(["203.0.113.9", "203.0.113.9", "203.0.113.9", "::1"])
            ]
    finally:
        await accounts.stop()
    assert outcomes == ["wrong", "wrong", "throttled", "wrong"]
    assert await address_subjects(stack) == ["203.0.113.9", "::/64"]


# -- unknown emails -----------------------------------------------------------------------


async def test_an_unknown_email_costs_one_verification_like_a_wrong_password(
    stack: Stack, counting: tuple[RunningServer, CountingHasher]
) -> None:
    server, hasher = counting
    url = server.graphql_url
    await register(stack, url, "ann@example.com")
    [stored] = await stack.sql("accounts", "SELECT password_hash FROM users")
    hasher.reset()
    known = await login(stack, url, "ann@example.com", "wrong password", "192.0.2.10")
    unknown = await login(stack, url, "nobody@example.com", "wrong password", "192.0.2.11")
    assert (
        known
        == unknown
        == {"data": {"login": {"token": None, "user": None, "userErrors": [WRONG]}}}
    )
    assert len(hasher.verified) == 2
    real, dummy = hasher.verified
    assert real == stored.password_hash
    assert dummy != real
    # the same argon2 cost, so the same time
    assert extract_parameters(dummy) == extract_parameters(real)


async def test_an_over_long_sign_in_password_is_refused_without_hashing(
    stack: Stack, counting: tuple[RunningServer, CountingHasher]
) -> None:
    server, hasher = counting
    await register(stack, server.graphql_url, "ann@example.com")
    hasher.reset()
    body = await login(stack, server.graphql_url, "ann@example.com", "p" * 5_000)
    assert outcome(body) == "wrong"
    assert hasher.verified == []


# -- password policy ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password", "Password must be at least 12 characters"),
        (" " * 8, "Password must not be only spaces"),
        ("\t" + " " * 20, "Password must not be only spaces"),
        ("x" * 129, "Password must be at most 128 characters"),
        ("x7" * 2_500, "Password must be at most 128 characters"),
        *(
            (
                common,
                "This password is too common; choose another (a few unrelated words work well)",
            )
            for common in [
                "QWERTY123456",  # listed as is, in another case
                "PassWord1234!",  # a listed password decorated at the end
                "2024Dragon!!",  # ... and at the start
                "monkeymonkey",  # repeated
                "zzzzzzzzzzzzzzz",  # one character
                # what an independent probe found accepted, and relatives
                "passwordpassword1",  # repeated, decorated
                "Monkeymonkey1!",  # repeated in another case, decorated
                "123456789012",  # nothing but decoration: no letter
                "dragon.dragon",  # words split by punctuation, repeated
                "iloveyou iloveyou",  # ... by a space
                "!!password password!!",  # ... and decorated
                "p\N{CYRILLIC SMALL LETTER A}ssword1234",  # a look-alike letter
                "P\N{GREEK CAPITAL LETTER ALPHA}SSW\N{CYRILLIC CAPITAL LETTER O}RD1234",
                "pässwörd1234",  # accents
                "\N{FULLWIDTH LATIN CAPITAL LETTER P}\N{FULLWIDTH LATIN SMALL LETTER A}ssword12345",
                "Dragon1.dragon2",  # a word repeated, each copy decorated
                "pass-word-2024",  # a listed word split by a separator
                "abcdefghijkl",  # the alphabet
                "qwerty-uiop-12",  # a keyboard row
                "aaaaaaaaaaab",  # a held key, then the next letter
                "\N{ARABIC LIGATURE SALLALLAHOU ALAYHE WASALLAM}" * 12,  # one character
            ]
        ),
    ],
    ids=[
        "8-chars",
        "8-spaces",
        "21-whitespace",
        "129-chars",
        "5000-chars",
        "listed-other-case",
        "decorated-end",
        "decorated-start",
        "repeated",
        "one-character",
        "repeated-decorated",
        "repeated-other-case-decorated",
        "digits-only",
        "repeated-with-dot",
        "repeated-with-space",
        "repeated-words-decorated",
        "cyrillic-look-alike",
        "greek-and-cyrillic-capitals",
        "accents",
        "full-width",
        "repeated-each-decorated",
        "split-word",
        "alphabet-run",
        "keyboard-row",
        "held-key",
        "one-expanding-character",
    ],
)
async def test_weak_passwords_are_refused_naming_the_field(
    stack: Stack, password: str, message: str
) -> None:
    body = await post(
        stack,
        stack.url("accounts"),
        REGISTER,
        {"input": {"email": "weak@example.com", "password": password, "name": "Weak"}},
    )
    assert body["data"]["register"] == {
        "token": None,
        "user": None,
        "userErrors": [
            {"code": "WEAK_PASSWORD", "field": ["input", "password"], "message": message}
        ],
    }
    assert await stack.sql("accounts", "SELECT id FROM users") == []


async def test_a_million_character_password_is_refused_before_hashing(
    stack: Stack, counting: tuple[RunningServer, CountingHasher]
) -> None:
    server, hasher = counting
    hasher.reset()
    body = await post(
        stack,
        server.graphql_url,
        REGISTER,
        {"input": {"email": "long@example.com", "password": "p" * 1_000_000, "name": "Long"}},
    )
    # refused by the subgraphs' input guard, before the resolver, naming the field
    assert body["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": ["input", "password"],
    }
    assert hasher.hashed == 0
    assert await stack.sql("accounts", "SELECT id FROM users") == []


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery",
        "correct horse battery staple",
        "bob-password",
        "Tr0ub4dor&3xyz",
        "Tr0ub4dor&3-xyzzy",
        "je suis très content",
        # Cyrillic letters drawn like Latin ones must not turn a Russian passphrase weak
        "мой секретный пароль",
        "Zimmer 42 am Bahnhof",
    ],
)
async def test_reasonable_passwords_are_accepted(stack: Stack, password: str) -> None:
    await register(stack, stack.url("accounts"), "fine@example.com", password)
    body = await login(stack, stack.url("accounts"), "FINE@example.com", password)
    assert outcome(body) == "ok"


def test_the_demo_passwords_satisfy_the_policy() -> None:
    assert {user.email: password_problem(user.password) for user in DEMO_USERS} == {
        user.email: None for user in DEMO_USERS
    }
