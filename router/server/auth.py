"""JWT validation at the edge: a shared secret, a PEM public key or a JSON Web Key Set
(file or URL).

A request without a token passes (unless `required`); a request with a token
that does not verify is refused with 401 and UNAUTHENTICATED. The verified
claims travel with the request so that header rules can use them.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import orjson
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from router.config import ConfigError, JwtConfig

HMAC_ALGORITHMS = ["HS256", "HS384", "HS512"]
KEY_SET_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
                      "ES512", "EdDSA"]
# An unknown `kid` triggers a JWKS refetch at most this often (keys rotate rarely).
_UNKNOWN_KID_REFETCH_SECONDS = 10.0


class AuthError(Exception):
    """The request's token is missing (when required), malformed or invalid."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class KeySet:
    """Keys by `kid`, from a file or URL, reloaded when stale or when a `kid` is unknown."""

    def __init__(self, config: JwtConfig, http: httpx.AsyncClient | None) -> None:
        self.config = config
        self.http = http
        self.keys: dict[str | None, jwt.PyJWK] = {}
        self.loaded_at = float("-inf")
        self._lock = asyncio.Lock()

    async def _fetch(self) -> Any:
        if self.config.jwks_file:
            return orjson.loads(await asyncio.to_thread(Path(self.config.jwks_file).read_bytes))
        assert self.config.jwks_url
        if self.http is None:
            async with httpx.AsyncClient(timeout=5) as http:
                response = await http.get(self.config.jwks_url)
        else:
            response = await self.http.get(self.config.jwks_url, timeout=5)
        response.raise_for_status()
        return orjson.loads(response.content)

    async def load(self) -> None:
        """Fetch the key set again and keep the keys this build can use."""
        data = await self._fetch()
        keys: dict[str | None, jwt.PyJWK] = {}
        for entry in data.get("keys", []) if isinstance(data, dict) else []:
            try:
                key = jwt.PyJWK(entry)
            except jwt.PyJWTError:
                continue  # a key type this build cannot use must not hide the others
            keys[entry.get("kid")] = key
        self.keys = keys
        self.loaded_at = time.monotonic()

    def _find(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None and len(self.keys) == 1:
            return next(iter(self.keys.values()))
        return self.keys.get(kid)

    async def key(self, kid: str | None) -> jwt.PyJWK:
        """The key for `kid`, refetching the set when stale or when the `kid` is unknown."""
        seen = self.loaded_at
        age = time.monotonic() - seen
        missing = self._find(kid) is None
        if age > self.config.jwks_refresh_seconds or (
            missing and age > _UNKNOWN_KID_REFETCH_SECONDS
        ):
            async with self._lock:
                if self.loaded_at == seen:  # nobody refreshed while we waited
                    try:
                        await self.load()
                    except (OSError, ValueError, httpx.HTTPError) as error:
                        if not self.keys:
                            raise AuthError(
                                f"cannot load the JSON Web Key Set: {error}"
                            ) from error
        found = self._find(kid)
        if found is None:
            raise AuthError("Invalid token: no key matches its 'kid'.")
        return found


class JwtValidator:
    """Verifies a request's JWT with a shared secret or a JSON Web Key Set."""

    def __init__(self, config: JwtConfig, http: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self.header = config.header.lower()
        self.prefix = config.prefix
        self.secret = config.secret or (
            os.environ.get(config.secret_env) if config.secret_env else None
        )
        self.public_key = public_key(config)
        self.algorithms = config.algorithms or (
            HMAC_ALGORITHMS if self.secret else KEY_SET_ALGORITHMS
        )
        self.key_set = None if self.secret or self.public_key else KeySet(config, http)

    def token(self, headers: dict[str, str]) -> str | None:
        """The token in the request's header (None without one); AuthError when malformed."""
        raw = headers.get(self.header)
        if not raw:
            return None
        if not self.prefix:
            return raw.strip()
        scheme, _, token = raw.strip().partition(" ")
        if scheme.lower() != self.prefix.lower() or not token.strip():
            raise AuthError(f"Invalid {self.header} header: expected '{self.prefix} <token>'.")
        return token.strip()

    async def claims(self, headers: dict[str, str]) -> dict[str, Any] | None:
        """The verified claims; None without a token (when allowed); AuthError otherwise."""
        token = self.token(headers)
        if token is None:
            if self.config.required:
                raise AuthError("Authentication required: send a bearer token.")
            return None
        key: Any = self.secret or self.public_key
        if self.key_set is not None:
            try:
                kid = jwt.get_unverified_header(token).get("kid")
            except jwt.PyJWTError as error:
                raise AuthError(f"Invalid token: {error}") from error
            key = await self.key_set.key(kid)
        options: dict[str, Any] = {"verify_aud": self.config.audience is not None}
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=self.algorithms,
                audience=self.config.audience,
                issuer=self.config.issuer,
                options=options,
            )
        except jwt.PyJWTError as error:
            raise AuthError(f"Invalid token: {error}") from error
        return claims


def public_key(config: JwtConfig) -> Any | None:
    """The PEM public key `auth.jwt.public_key_file` or `public_key_env` names (the
    variable holds the PEM text or a path to it); None without either. ConfigError,
    naming the option, when it cannot be read or is no public key."""
    option, pem = None, None
    try:
        if config.public_key_file:
            option = "public_key_file"
            pem = Path(config.public_key_file).read_bytes()
        elif config.public_key_env:
            option = "public_key_env"
            value = os.environ.get(config.public_key_env, "")
            text = value.lstrip().startswith("-----BEGIN")
            pem = value.encode() if text else Path(value).read_bytes()
    except OSError as error:
        raise ConfigError(f"auth.jwt.{option}: cannot read the key: {error.strerror}") from None
    if pem is None:
        return None
    try:
        return load_pem_public_key(pem)
    except ValueError:
        raise ConfigError(f"auth.jwt.{option}: not a PEM public key") from None
