"""The router configuration `shopgraph dev` writes: the shop's tokens verified at the edge,
merged with a --router-config of the user's own. Checked with the router's own config
loader and JWT validator, against tokens the shop's TokenCodec issues."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from router.config import load_config
from router.server.auth import AuthError, JwtValidator
from subgraphs.commands.dev import DevError, _router_config
from subgraphs.commands.router_config import write_router_config
from subgraphs.common.auth import ADMIN, CUSTOMER, SERVICE, TokenCodec

SECRET = secrets.token_urlsafe(32)


@pytest.fixture
def shop_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    """The environment the router of `shopgraph dev` gets: the shop's HS256 secret."""
    monkeypatch.setenv("SHOPGRAPH_JWT_SECRET", SECRET)
    monkeypatch.delenv("SHOPGRAPH_JWT_PUBLIC_KEY", raising=False)
    return SECRET


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_without_a_user_config_the_router_verifies_the_shops_tokens(
    tmp_path: Path, shop_secret: str
) -> None:
    path, how = write_router_config(tmp_path, None, {"SHOPGRAPH_JWT_SECRET": shop_secret})
    assert path == tmp_path / "router.yaml"
    assert how == "verifies the shop's tokens (secret_env: SHOPGRAPH_JWT_SECRET), tokens optional"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert shop_secret not in path.read_text()  # the variable's name, never its value
    config = load_config(path).auth.jwt
    assert (config.secret_env, config.algorithms, config.issuer, config.required) == (
        "SHOPGRAPH_JWT_SECRET", ["HS256"], "shopgraph", False
    )
    validator = JwtValidator(config)
    codec = TokenCodec("HS256", shop_secret, shop_secret)
    claims = await validator.claims(_bearer(codec.issue("u-1", ADMIN)))
    assert claims is not None and (claims["sub"], claims["scope"]) == ("u-1", "admin")
    assert await validator.claims({}) is None  # a guest browses
    other = TokenCodec("HS256", "x" * 40, "x" * 40)
    forged = [
        other.issue("u-1", ADMIN),
        jwt.encode({"sub": "u-1", "scope": "admin", "iss": "elsewhere",
                    "exp": int(time.time()) + 60}, shop_secret, algorithm="HS256"),
        codec.issue("u-1", CUSTOMER, ttl_seconds=-10),
    ]
    for token in forged:
        with pytest.raises(AuthError, match=r"^Invalid token: "):
            await validator.claims(_bearer(token))


def test_the_users_config_is_kept_and_its_jwt_options_win(
    tmp_path: Path, shop_secret: str
) -> None:
    user = tmp_path / "mine.yaml"
    user.write_text(yaml.safe_dump({
        "limits": {"max_depth": 20},
        "auth": {"jwt": {"required": True, "audience": "shop-front"}},
    }))
    path, _ = write_router_config(tmp_path / "data", str(user), {})
    config = load_config(path)
    assert config.limits.max_depth == 20
    jwt_config = config.auth.jwt
    assert (jwt_config.secret_env, jwt_config.issuer) == ("SHOPGRAPH_JWT_SECRET", "shopgraph")
    assert (jwt_config.required, jwt_config.audience) == (True, "shop-front")


def test_a_user_config_with_its_own_keys_wins_whole(tmp_path: Path, shop_secret: str) -> None:
    keys = tmp_path / "jwks.json"
    keys.write_text('{"keys": []}')
    user = tmp_path / "mine.yaml"
    user.write_text(yaml.safe_dump({"auth": {"jwt": {"jwks_file": str(keys)}}}))
    path, how = write_router_config(tmp_path / "data", str(user), {})
    assert how == f"edge JWT settings from {user}"
    jwt_config = load_config(path).auth.jwt
    assert (jwt_config.jwks_file, jwt_config.secret_env, jwt_config.issuer) == (
        str(keys), None, None
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("- a list\n", "--router-config {path}: expected a mapping at the top"),
        ("limits: [unclosed\n", "--router-config {path} is not valid YAML"),
    ],
)
def test_an_unusable_user_config_stops_dev_with_its_name(
    tmp_path: Path, content: str, message: str
) -> None:
    user = tmp_path / "mine.yaml"
    user.write_text(content)

    class Args:
        router_config = str(user)

    with pytest.raises(DevError) as refused:
        _router_config(Args(), tmp_path / "data")  # type: ignore[arg-type]
    assert str(refused.value).startswith(message.format(path=user))
    assert not (tmp_path / "data" / "router.yaml").exists()
    Args.router_config = str(tmp_path / "missing.yaml")
    with pytest.raises(DevError) as missing:
        _router_config(Args(), tmp_path / "data")  # type: ignore[arg-type]
    assert str(missing.value) == (
        f"cannot read --router-config {tmp_path / 'missing.yaml'}: No such file or directory"
    )


@pytest.mark.parametrize("given_as", ["pem", "path"])
async def test_rs256_tokens_are_verified_with_the_public_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given_as: str
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    pem_file = tmp_path / "public.pem"
    pem_file.write_text(public)
    # as the subgraphs take it: PEM text or a path to a PEM file
    monkeypatch.setenv("SHOPGRAPH_JWT_PUBLIC_KEY", public if given_as == "pem" else str(pem_file))
    monkeypatch.delenv("SHOPGRAPH_JWT_SECRET", raising=False)
    path, how = write_router_config(tmp_path / "data", None, os.environ)
    assert how == (
        "verifies the shop's tokens (public_key_env: SHOPGRAPH_JWT_PUBLIC_KEY), tokens optional"
    )
    config = load_config(path).auth.jwt
    assert (config.algorithms, config.issuer) == (["RS256"], "shopgraph")
    validator = JwtValidator(config)
    token = TokenCodec("RS256", private, public).issue("s", SERVICE)
    claims = await validator.claims(_bearer(token))
    assert claims is not None and claims["scope"] == "service"
    # an HS256 token signed with the public key as its secret (algorithm confusion)
    confused = _hs256(
        public.encode(),
        {"sub": "s", "scope": "admin", "iss": "shopgraph", "exp": int(time.time()) + 60},
    )
    with pytest.raises(AuthError, match=r"^Invalid token: "):
        await validator.claims(_bearer(confused))


def _hs256(key: bytes, claims: dict[str, Any]) -> str:
    """A token HMAC-signed with any key (PyJWT refuses a PEM key as an HMAC secret)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signed = ".".join(
        part(json.dumps(value).encode()) for value in ({"alg": "HS256", "typ": "JWT"}, claims)
    )
    return f"{signed}.{part(hmac.new(key, signed.encode(), hashlib.sha256).digest())}"
