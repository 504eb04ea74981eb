"""JWT issue/verify and the per-request viewer.

Every subgraph verifies the `Authorization: Bearer <JWT>` header itself; the
router only forwards it. HS256 with a shared secret (SHOPGRAPH_JWT_SECRET) is
the default; setting SHOPGRAPH_JWT_PRIVATE_KEY/SHOPGRAPH_JWT_PUBLIC_KEY (PEM,
or a path to a PEM file) switches to RS256 so only the services that issue
tokens need the private key. There is no built-in secret: a process without
one refuses to start (`shopgraph dev` generates one per data folder).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import jwt

from .errors import Forbidden, Unauthenticated

ISSUER = "shopgraph"
SECRET_ENV = "SHOPGRAPH_JWT_SECRET"
PUBLIC_KEY_ENV = "SHOPGRAPH_JWT_PUBLIC_KEY"
PRIVATE_KEY_ENV = "SHOPGRAPH_JWT_PRIVATE_KEY"
# RFC 7518 3.2: an HS256 key must be at least as long as the hash output.
MIN_SECRET_BYTES = 32
_HOW_TO_SET = (
    f"set {SECRET_ENV} to a random secret of at least {MIN_SECRET_BYTES} bytes "
    "(for example the output of: python3 -c \"import secrets; print(secrets.token_urlsafe(48))\"), "
    f"or {PUBLIC_KEY_ENV} (and {PRIVATE_KEY_ENV} where tokens are issued) for RS256; "
    "`shopgraph dev` generates and keeps one for you"
)

CUSTOMER = "CUSTOMER"
ADMIN = "ADMIN"
# Subgraph-to-subgraph calls (orders -> inventory) authenticate as a service.
SERVICE = "SERVICE"
ROLES = frozenset({CUSTOMER, ADMIN, SERVICE})
# The OAuth-style `scope` claim each role's tokens carry, for the router's
# @requiresScopes (docs/authorization.md); subgraphs keep checking `role`.
SCOPE_OF_ROLE = {ADMIN: "admin", SERVICE: "service", CUSTOMER: "customer"}


@dataclass(frozen=True)
class Viewer:
    """Who a verified token speaks for: a user id and a role (CUSTOMER, ADMIN or SERVICE)."""

    user_id: str
    role: str
    # The token's `exp` (seconds since the epoch): a subscription ends there (ws.py).
    expires_at: float | None = None

    @property
    def is_admin(self) -> bool:
        """Whether the viewer holds the ADMIN role."""
        return self.role == ADMIN


class JwtConfigError(Exception):
    """The signing/verifying key configuration is missing or unusable; the message says how
    to fix it (it never contains the secret)."""


def check_secret(secret: str) -> str:
    """`secret` if it is long enough to sign HS256 tokens, else JwtConfigError."""
    size = len(secret.encode())
    if size < MIN_SECRET_BYTES:
        raise JwtConfigError(
            f"{SECRET_ENV} is too short ({size} bytes, at least {MIN_SECRET_BYTES} needed): "
            + _HOW_TO_SET
        )
    return secret


def _pem(variable: str, value: str | None) -> str | None:
    if not value:
        return None
    if value.lstrip().startswith("-----BEGIN"):
        return value
    try:
        return Path(value).read_text()
    except OSError as error:
        raise JwtConfigError(
            f"{variable} is neither PEM text nor a readable file ({error.strerror}: {value})"
        ) from error


@dataclass(frozen=True)
class TokenCodec:
    """Issues and verifies the shop's JWTs: HS256 with a shared secret, or RS256."""

    algorithm: str
    signing_key: str | None
    verifying_key: str
    ttl_seconds: int = 24 * 3600

    def __post_init__(self) -> None:
        if self.algorithm.startswith("HS"):
            check_secret(self.verifying_key)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TokenCodec:
        """The codec the environment configures; JwtConfigError when it configures none."""
        env = os.environ if environ is None else environ
        public = _pem(PUBLIC_KEY_ENV, env.get(PUBLIC_KEY_ENV))
        if public:
            return cls("RS256", _pem(PRIVATE_KEY_ENV, env.get(PRIVATE_KEY_ENV)), public)
        secret = env.get(SECRET_ENV)
        if not secret:
            raise JwtConfigError(f"no JWT signing secret: {_HOW_TO_SET}")
        return cls("HS256", check_secret(secret), secret)

    def issue(self, user_id: str, role: str, ttl_seconds: int | None = None) -> str:
        """A signed token for `user_id` in `role` (with the role's `scope` claim), valid
        `ttl_seconds` (else the codec's TTL)."""
        if self.signing_key is None:
            raise RuntimeError("this process has no JWT signing key (SHOPGRAPH_JWT_PRIVATE_KEY)")
        now = int(time.time())
        claims = {
            "sub": user_id,
            "role": role,
            "scope": SCOPE_OF_ROLE[role],
            "iss": ISSUER,
            "iat": now,
            "exp": now + (ttl_seconds or self.ttl_seconds),
        }
        return jwt.encode(claims, self.signing_key, algorithm=self.algorithm)

    def verify(self, token: str) -> Viewer:
        """The viewer `token` names; Unauthenticated if it is expired, forged or malformed."""
        try:
            claims = jwt.decode(
                token,
                self.verifying_key,
                algorithms=[self.algorithm],
                issuer=ISSUER,
                options={"require": ["sub", "exp", "iss"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("Token has expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated("Invalid token") from exc
        role = claims.get("role")
        if role not in ROLES or not isinstance(claims["sub"], str):
            raise Unauthenticated("Invalid token")
        return Viewer(user_id=claims["sub"], role=role, expires_at=float(claims["exp"]))


@dataclass(frozen=True)
class Auth:
    """What the request's Authorization header says; checked lazily by resolvers."""

    viewer: Viewer | None
    error: Unauthenticated | None = None

    @classmethod
    def from_header(cls, header: str | None, codec: TokenCodec) -> Auth:
        """The Auth for an Authorization header; a bad one is kept as the error to raise later."""
        if not header:
            return cls(None)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return cls(None, Unauthenticated("Authorization header must be 'Bearer <token>'"))
        try:
            return cls(codec.verify(token.strip()))
        except Unauthenticated as exc:
            return cls(None, exc)

    def optional_viewer(self) -> Viewer | None:
        """The signed-in viewer, or None for a guest; Unauthenticated if the header was bad
        (a broken or expired token is a client to tell, not a guest)."""
        if self.error is not None:
            raise self.error
        return self.viewer

    def require_viewer(self) -> Viewer:
        """The signed-in viewer; Unauthenticated if the header was missing or bad."""
        if self.error is not None:
            raise self.error
        if self.viewer is None:
            raise Unauthenticated("Authentication required")
        return self.viewer

    def require_admin(self) -> Viewer:
        """The viewer, if an admin; Forbidden otherwise."""
        viewer = self.require_viewer()
        if not viewer.is_admin:
            raise Forbidden("Admin role required")
        return viewer

    def require_self_or_admin(self, user_id: str) -> Viewer:
        """The viewer, if it is `user_id` or an admin; Forbidden otherwise."""
        viewer = self.require_viewer()
        if viewer.user_id != user_id and not viewer.is_admin:
            raise Forbidden("Not allowed to access another user's data")
        return viewer

    def require_service_or_admin(self) -> Viewer:
        """The viewer, if a service (another subgraph) or an admin; Forbidden otherwise."""
        viewer = self.require_viewer()
        if viewer.role not in (SERVICE, ADMIN):
            raise Forbidden("Service or admin role required")
        return viewer
