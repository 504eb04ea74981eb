"""JWT issue/verify and the per-request viewer.

Every subgraph verifies the `Authorization: Bearer <JWT>` header itself; the
router only forwards it. HS256 with a shared secret is the default; setting
SHOPGRAPH_JWT_PRIVATE_KEY/SHOPGRAPH_JWT_PUBLIC_KEY (PEM, or a path to a PEM
file) switches to RS256 so only accounts needs the private key.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import jwt

from .errors import Forbidden, Unauthenticated

DEV_SECRET = "shopgraph-dev-secret-change-me-in-production"
ISSUER = "shopgraph"

CUSTOMER = "CUSTOMER"
ADMIN = "ADMIN"
# Subgraph-to-subgraph calls (orders -> inventory) authenticate as a service.
SERVICE = "SERVICE"
ROLES = frozenset({CUSTOMER, ADMIN, SERVICE})


@dataclass(frozen=True)
class Viewer:
    user_id: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


def _pem(value: str | None) -> str | None:
    if not value:
        return None
    if value.lstrip().startswith("-----BEGIN"):
        return value
    return Path(value).read_text()


@dataclass(frozen=True)
class TokenCodec:
    algorithm: str
    signing_key: str | None
    verifying_key: str
    ttl_seconds: int = 24 * 3600

    @classmethod
    def from_env(cls) -> TokenCodec:
        public = _pem(os.environ.get("SHOPGRAPH_JWT_PUBLIC_KEY"))
        if public:
            private = _pem(os.environ.get("SHOPGRAPH_JWT_PRIVATE_KEY"))
            return cls("RS256", private, public)
        secret = os.environ.get("SHOPGRAPH_JWT_SECRET") or DEV_SECRET
        return cls("HS256", secret, secret)

    def issue(self, user_id: str, role: str, ttl_seconds: int | None = None) -> str:
        if self.signing_key is None:
            raise RuntimeError("this process has no JWT signing key (SHOPGRAPH_JWT_PRIVATE_KEY)")
        now = int(time.time())
        claims = {
            "sub": user_id,
            "role": role,
            "iss": ISSUER,
            "iat": now,
            "exp": now + (ttl_seconds or self.ttl_seconds),
        }
        return jwt.encode(claims, self.signing_key, algorithm=self.algorithm)

    def verify(self, token: str) -> Viewer:
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
        return Viewer(user_id=claims["sub"], role=role)


@dataclass(frozen=True)
class Auth:
    """What the request's Authorization header says; checked lazily by resolvers."""

    viewer: Viewer | None
    error: Unauthenticated | None = None

    @classmethod
    def from_header(cls, header: str | None, codec: TokenCodec) -> Auth:
        if not header:
            return cls(None)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return cls(None, Unauthenticated("Authorization header must be 'Bearer <token>'"))
        try:
            return cls(codec.verify(token.strip()))
        except Unauthenticated as exc:
            return cls(None, exc)

    def require_viewer(self) -> Viewer:
        if self.error is not None:
            raise self.error
        if self.viewer is None:
            raise Unauthenticated("Authentication required")
        return self.viewer

    def require_admin(self) -> Viewer:
        viewer = self.require_viewer()
        if not viewer.is_admin:
            raise Forbidden("Admin role required")
        return viewer

    def require_self_or_admin(self, user_id: str) -> Viewer:
        viewer = self.require_viewer()
        if viewer.user_id != user_id and not viewer.is_admin:
            raise Forbidden("Not allowed to access another user's data")
        return viewer

    def require_service_or_admin(self) -> Viewer:
        viewer = self.require_viewer()
        if viewer.role not in (SERVICE, ADMIN):
            raise Forbidden("Service or admin role required")
        return viewer
