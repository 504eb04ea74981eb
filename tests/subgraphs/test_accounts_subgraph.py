"""accounts: register, login, me, user(id), and its auth rules."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from subgraph_stack import CODEC, Stack, admin_token, customer_token, service_token

from subgraphs.common.auth import TokenCodec
from subgraphs.common.errors import Unauthenticated

REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) {
    token
    user { id email name role }
    userErrors { code field message }
  }
}
"""
LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) { token user { id email } userErrors { code field message } }
}
"""
ME = "{ me { id email name role createdAt } }"
USER = "query User($id: ID!) { user(id: $id) { id email } }"


async def register(stack: Stack, email: str, password: str = "correct horse", name: str = "Ann"):
    body = await stack.data(
        "accounts", REGISTER, {"input": {"email": email, "password": password, "name": name}}
    )
    return body["register"]


async def test_register_returns_a_token_for_a_new_customer(stack: Stack) -> None:
    payload = await register(stack, "  Ann@Example.COM ")
    assert payload["userErrors"] == []
    assert payload["user"]["email"] == "ann@example.com"
    assert payload["user"]["role"] == "CUSTOMER"
    viewer = CODEC.verify(payload["token"])
    assert viewer.user_id == payload["user"]["id"]
    assert viewer.role == "CUSTOMER"

    me = await stack.data("accounts", ME, token=payload["token"])
    assert me["me"]["id"] == payload["user"]["id"]
    assert me["me"]["name"] == "Ann"


async def test_tokens_carry_the_scope_of_their_role(stack: Stack) -> None:
    """The router's @requiresScopes reads `scope`; the subgraphs keep reading `role`."""
    registered = await register(stack, "scoped@example.com", password="scoped password")
    logged_in = (
        await stack.data(
            "accounts",
            LOGIN,
            {"input": {"email": "scoped@example.com", "password": "scoped password"}},
        )
    )["login"]
    for token in (registered["token"], logged_in["token"]):
        claims = jwt.decode(token, options={"verify_signature": False})
        assert (claims["role"], claims["scope"]) == ("CUSTOMER", "customer")
    issued = {
        role: jwt.decode(CODEC.issue("someone", role), options={"verify_signature": False})
        for role in ("ADMIN", "SERVICE", "CUSTOMER")
    }
    assert {role: claims["scope"] for role, claims in issued.items()} == {
        "ADMIN": "admin",
        "SERVICE": "service",
        "CUSTOMER": "customer",
    }
    assert {role: claims["role"] for role, claims in issued.items()} == {
        "ADMIN": "ADMIN",
        "SERVICE": "SERVICE",
        "CUSTOMER": "CUSTOMER",
    }


async def test_duplicate_email_is_a_user_error_and_changes_nothing(stack: Stack) -> None:
    await register(stack, "dup@example.com")
    again = await register(stack, "DUP@example.com", name="Other")
    assert again["token"] is None
    assert again["userErrors"] == [
        {
            "code": "EMAIL_TAKEN",
            "field": ["input", "email"],
            "message": "An account with this email exists",
        }
    ]
    rows = await stack.sql("accounts", "SELECT name FROM users")
    assert [r.name for r in rows] == ["Ann"]


async def test_register_validates_every_field(stack: Stack) -> None:
    body = await stack.data(
        "accounts", REGISTER, {"input": {"email": "nope", "password": "short", "name": " "}}
    )
    errors = body["register"]["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [
        ("INVALID_INPUT", ["input", "email"]),
        ("WEAK_PASSWORD", ["input", "password"]),
        ("INVALID_INPUT", ["input", "name"]),
    ]
    assert await stack.sql("accounts", "SELECT id FROM users") == []


@pytest.mark.parametrize(
    "email",
    [
        "carol@example.com,postmaster",  # two recipients to mail software
        "x<bob@example.com",  # a display name and bob's address
        "<script>@x.com",  # parsed as the local address "script"
        '"a b"@example.com',
        "a..b@example.com",
        "ann@localhost",
        "ann@exa mple.com",
        "ann@@example.com",
        "josé@example.com",
        "a" * 65 + "@example.com",
        "ann@" + "e" * 250 + ".com",
    ],
)
async def test_register_accepts_only_one_plain_address(stack: Stack, email: str) -> None:
    payload = await register(stack, email)
    assert payload["token"] is None
    assert payload["userErrors"] == [
        {
            "code": "INVALID_INPUT",
            "field": ["input", "email"],
            "message": "Not a valid email address (one plain address, like name@example.com)",
        }
    ]
    assert await stack.sql("accounts", "SELECT id FROM users") == []


async def test_register_keeps_ordinary_addresses(stack: Stack) -> None:
    emails = ["ann.lee+shop@mail.example.co.uk", "o'brien@example.ie", "x_1-2@a-b.example"]
    for email in emails:
        assert (await register(stack, email))["userErrors"] == []
    rows = await stack.sql("accounts", "SELECT email FROM users ORDER BY email")
    assert [r.email for r in rows] == sorted(emails)


async def test_login_with_right_and_wrong_credentials(stack: Stack) -> None:
    created = await register(stack, "bob@example.com", password="bobs password")
    good = (
        await stack.data(
            "accounts", LOGIN, {"input": {"email": "BOB@example.com", "password": "bobs password"}}
        )
    )["login"]
    assert good["userErrors"] == []
    assert good["user"]["id"] == created["user"]["id"]
    assert CODEC.verify(good["token"]).user_id == created["user"]["id"]

    for email, password in [("bob@example.com", "wrong password"), ("nobody@example.com", "x")]:
        bad = (
            await stack.data("accounts", LOGIN, {"input": {"email": email, "password": password}})
        )["login"]
        assert bad == {
            "token": None,
            "user": None,
            "userErrors": [
                {"code": "INVALID_CREDENTIALS", "field": None, "message": "Wrong email or password"}
            ],
        }


async def test_me_is_null_for_a_guest_and_an_error_for_a_bad_token(stack: Stack) -> None:
    # a storefront asks for `me` on every page: a guest is no one, not an error
    assert await stack.gql("accounts", ME) == {"data": {"me": None}}
    # a service token names no user
    assert await stack.gql("accounts", ME, token=service_token()) == {"data": {"me": None}}

    forged = jwt.encode(
        {"sub": str(uuid.uuid4()), "role": "ADMIN", "iss": "shopgraph", "exp": time.time() + 60},
        "some other secret that is long enough for HS256",
        algorithm="HS256",
    )
    expired = CODEC.issue(str(uuid.uuid4()), "CUSTOMER", ttl_seconds=-10)
    for token, message in [
        (forged, "Invalid token"),
        (expired, "Token has expired"),
        ("not-a-jwt", "Invalid token"),
    ]:
        body = await stack.gql("accounts", ME, token=token)
        assert body == {
            "data": {"me": None},
            "errors": [
                {
                    "message": message,
                    "locations": [{"line": 1, "column": 3}],
                    "path": ["me"],
                    "extensions": {"code": "UNAUTHENTICATED"},
                }
            ],
        }


async def test_user_by_id_is_for_admins_and_the_user_themself(stack: Stack) -> None:
    created = await register(stack, "carol@example.com")
    user_id = created["user"]["id"]

    own = await stack.data("accounts", USER, {"id": user_id}, created["token"])
    assert own["user"] == {"id": user_id, "email": "carol@example.com"}
    as_admin = await stack.data("accounts", USER, {"id": user_id}, admin_token())
    assert as_admin["user"] == {"id": user_id, "email": "carol@example.com"}

    other = await stack.gql("accounts", USER, {"id": user_id}, customer_token())
    assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert other["data"] == {"user": None}

    missing = await stack.gql("accounts", USER, {"id": str(uuid.uuid4())}, admin_token())
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_user_entities_resolve_with_auth(stack: Stack) -> None:
    created = await register(stack, "dave@example.com", name="Dave")
    query = """
    query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id name email } } }
    """
    reps = {"reps": [{"__typename": "User", "id": created["user"]["id"]}]}
    body = await stack.data("accounts", query, reps, admin_token())
    assert body["_entities"] == [
        {"id": created["user"]["id"], "name": "Dave", "email": "dave@example.com"}
    ]
    denied = await stack.gql("accounts", query, reps, customer_token())
    assert denied["data"] == {"_entities": [None]}
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert denied["errors"][0]["path"] == ["_entities", 0]


def test_rs256_tokens_verify_with_only_the_public_key() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    issuer = TokenCodec("RS256", private, public)
    verifier = TokenCodec("RS256", None, public)
    token = issuer.issue("user-1", "ADMIN")
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    viewer = verifier.verify(token)
    assert (viewer.user_id, viewer.role) == ("user-1", "ADMIN")
    # An HS256 token signed with the public key as secret (algorithm confusion) is rejected.
    confused = jwt.encode(
        {"sub": "x", "role": "ADMIN", "iss": "shopgraph", "exp": time.time() + 60},
        "an HS256 secret that is long enough to be accepted",
        algorithm="HS256",
    )
    with pytest.raises(Unauthenticated, match="Invalid token"):
        verifier.verify(confused)
