"""The `authorization` section and PEM public keys at the edge: validation errors name
the key; RS256 tokens verify against a PEM file or a variable holding one (or its path)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from router.config import ConfigError, parse_config
from router.server import create_app
from tests.server.conftest import serve
from tests.server.echo_subgraph import EchoSubgraphs


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"authorization": {"require_authentication": True}},
            "authorization.require_authentication: needs auth.jwt configured",
        ),
        (
            {"authorization": {"directives": {"dry_run": True, "reject_unauthorized": True}}},
            "authorization.directives.reject_unauthorized: cannot be combined with dry_run",
        ),
        (
            {"authorization": {"directives": {"errors": {"response": "headers"}}}},
            "authorization.directives.errors.response: expected one of errors, extensions, "
            "disabled, got 'headers'",
        ),
        (
            {"authorization": {"policy_hook": "policies.grant"}},
            "authorization.policy_hook: must be 'module:function', got 'policies.grant'",
        ),
        (
            {"authorization": {"directives": {"enable": False}}},
            "authorization.directives.enable: unknown option (known: dry_run, enabled, errors, "
            "reject_unauthorized)",
        ),
        (
            {"auth": {"jwt": {"public_key_env": "SHOPGRAPH_TEST_UNSET_KEY"}}},
            "auth.jwt.public_key_env: environment variable SHOPGRAPH_TEST_UNSET_KEY is not set",
        ),
        (
            {"auth": {"jwt": {"public_key_file": "/nonexistent/key.pem"}}},
            "auth.jwt.public_key_file: no such file: /nonexistent/key.pem",
        ),
        (
            {"auth": {"jwt": {"secret": "s", "public_key_file": "k.pem"}}},
            "auth.jwt.public_key_file: give only one of secret, secret_env, jwks_file, "
            "jwks_url, public_key_file, public_key_env (also set: secret)",
        ),
    ],
)
def test_bad_values_name_the_key(data: dict[str, Any], message: str):
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("hook", "message"),
    [
        (
            "tests.server.auth_graph.no_such_module:grant",
            "authorization.policy_hook: cannot load tests.server.auth_graph.no_such_module:"
            "grant: No module named 'tests.server.auth_graph.no_such_module'",
        ),
        (
            "tests.server.auth_graph.policies:missing",
            "authorization.policy_hook: cannot load tests.server.auth_graph.policies:missing: "
            "module 'tests.server.auth_graph.policies' has no attribute 'missing'",
        ),
        (
            "tests.server.auth_graph.policies:NOT_CALLABLE",
            "authorization.policy_hook: tests.server.auth_graph.policies:NOT_CALLABLE is not "
            "callable",
        ),
    ],
)
def test_a_policy_hook_that_cannot_be_loaded_stops_the_start(
    echo: EchoSubgraphs, hook: str, message: str
):
    config = parse_config({"authorization": {"policy_hook": hook}})
    with pytest.raises(ConfigError) as caught:
        create_app(echo.router(), config=config)
    assert str(caught.value) == message


@pytest.fixture(scope="module")
def keys() -> tuple[rsa.RSAPrivateKey, bytes]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, pem


def rs256(private: Any) -> dict[str, str]:
    claims = {"sub": "u1", "exp": int(time.time()) + 60}
    return {"authorization": "Bearer " + jwt.encode(claims, private, algorithm="RS256")}


async def status_with(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    response = await client.post("/graphql", json={"query": "{ alphaHeaders }"}, headers=headers)
    return response.status_code


@pytest.mark.parametrize("source", ["file", "env-pem", "env-path"])
async def test_rs256_tokens_verify_against_a_pem_public_key(
    echo: EchoSubgraphs,
    keys: tuple[Any, bytes],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
):
    private, pem = keys
    path = tmp_path / "public.pem"
    path.write_bytes(pem)
    if source == "file":
        jwt_config: dict[str, Any] = {"public_key_file": str(path)}
    else:
        value = pem.decode() if source == "env-pem" else str(path)
        monkeypatch.setenv("TEST_JWT_PUBLIC_KEY", value)
        jwt_config = {"public_key_env": "TEST_JWT_PUBLIC_KEY"}
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    async with serve(echo, {"auth": {"jwt": {**jwt_config, "required": True}}}) as (client, _):
        assert await status_with(client, rs256(private)) == 200
        assert await status_with(client, rs256(other)) == 401  # signed by another key
        assert await status_with(client, {}) == 401  # required


async def test_an_hmac_token_is_refused_with_a_public_key(
    echo: EchoSubgraphs, keys: tuple[Any, bytes], tmp_path: Path
):
    _, pem = keys
    path = tmp_path / "public.pem"
    path.write_bytes(pem)
    # signed with the public key's text as an HMAC secret: the algorithm confusion attack
    # (built by hand: PyJWT itself refuses to sign so)
    header = base64url(b'{"alg":"HS256","typ":"JWT"}')
    body = base64url(b'{"sub":"admin"}')
    signature = hmac.new(pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    forged = f"{header}.{body}.{base64url(signature)}"
    async with serve(echo, {"auth": {"jwt": {"public_key_file": str(path)}}}) as (client, _):
        assert await status_with(client, {"authorization": f"Bearer {forged}"}) == 401


def base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_file_that_is_no_public_key_stops_the_start(echo: EchoSubgraphs, tmp_path: Path):
    path = tmp_path / "public.pem"
    path.write_text("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n")
    config = parse_config({"auth": {"jwt": {"public_key_file": str(path)}}})
    with pytest.raises(ConfigError) as caught:
        create_app(echo.router(), config=config)
    assert str(caught.value) == "auth.jwt.public_key_file: not a PEM public key"
