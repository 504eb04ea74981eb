"""The router configuration `shopgraph dev` runs: edge verification of the shop's JWTs.

The router checks the shop's tokens itself (`auth.jwt`), so it knows the
caller's scopes for `@authenticated` / `@requiresScopes` and refuses a forged
or expired token with 401 before any subgraph sees it. Tokens stay optional:
a guest browses the catalogue.

A `--router-config` of the user's own is kept and the shop's key settings are
added to it, unless its `auth.jwt` names a key source of its own (a secret,
a key set or a public key), which then wins whole. The result is written to
the data folder as `router.yaml` on every start and given to the router.

In development every caller may ask for the inline fetch trace (`shopgraph-trace: 1`,
the playground's waterfall), unless the user's file configures
`telemetry.inline_trace` itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

FILE_NAME = "router.yaml"
# The options of the router's `auth.jwt` that say where keys come from.
KEY_SOURCES = (
    "secret", "secret_env", "jwks_file", "jwks_url", "public_key_file", "public_key_env"
)


class RouterConfigError(Exception):
    """The user's --router-config cannot be read or is not a router.yaml mapping."""


def shop_jwt(environ: Mapping[str, str]) -> dict[str, Any]:
    """The `auth.jwt` options that verify the tokens the shop issues in this environment:
    RS256 with SHOPGRAPH_JWT_PUBLIC_KEY when set (the router reads it as the subgraphs
    do: PEM text or a path to a PEM file), else HS256 with SHOPGRAPH_JWT_SECRET; issuer
    `shopgraph` either way."""
    from subgraphs.common.auth import ISSUER, PUBLIC_KEY_ENV, SECRET_ENV

    if environ.get(PUBLIC_KEY_ENV):
        return {"public_key_env": PUBLIC_KEY_ENV, "algorithms": ["RS256"], "issuer": ISSUER}
    return {"secret_env": SECRET_ENV, "algorithms": ["HS256"], "issuer": ISSUER}


def read_user_config(path: str | None) -> dict[str, Any]:
    """The user's router.yaml as a mapping ({} without one); RouterConfigError otherwise."""
    if path is None:
        return {}
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as error:
        raise RouterConfigError(f"cannot read --router-config {path}: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise RouterConfigError(f"--router-config {path} is not valid YAML: {error}") from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RouterConfigError(f"--router-config {path}: expected a mapping at the top")
    return data


def with_shop_jwt(user: dict[str, Any], environ: Mapping[str, str]) -> tuple[dict[str, Any], bool]:
    """`user`'s configuration with the shop's JWT verification added, and whether it was
    added (False: the user's `auth.jwt` names its own key source and is kept as given).

    The user's other `auth.jwt` options (`required`, `audience`, even `issuer`) win over
    the shop's; a malformed `auth` section is left as given for the router to report."""
    auth = user.get("auth", {})
    jwt = auth.get("jwt", {}) if isinstance(auth, dict) else None
    if not isinstance(jwt, dict) or any(jwt.get(key) for key in KEY_SOURCES):
        return user, False
    merged_jwt = {**shop_jwt(environ), **jwt}
    return {**user, "auth": {**auth, "jwt": merged_jwt}}, True


def with_dev_trace(user: dict[str, Any]) -> dict[str, Any]:
    """`user`'s configuration with the inline trace open to every caller (development),
    unless it says something about `telemetry.inline_trace` (or has a malformed
    `telemetry` section, left as given for the router to report)."""
    telemetry = user.get("telemetry", {})
    if not isinstance(telemetry, dict) or "inline_trace" in telemetry:
        return user
    trace = {"enabled": True, "allow": "development"}
    return {**user, "telemetry": {**telemetry, "inline_trace": trace}}


def write_router_config(
    folder: Path, user_path: str | None, environ: Mapping[str, str]
) -> tuple[Path, str]:
    """Write the dev router's configuration to `folder`; its path and a line saying how
    the router checks tokens (the shop's part names variables, never their values)."""
    config, added = with_shop_jwt(with_dev_trace(read_user_config(user_path)), environ)
    path = folder / FILE_NAME
    folder.mkdir(parents=True, exist_ok=True)
    text = "# written by `shopgraph dev` on every start: edit your --router-config instead\n"
    text += yaml.safe_dump(config, sort_keys=False)
    # private: the user's own file may hold a literal secret
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(text)
    if not added:
        return path, f"edge JWT settings from {user_path}"
    jwt = config["auth"]["jwt"]
    key = next(f"{name}: {jwt[name]}" for name in KEY_SOURCES if jwt.get(name))
    return path, f"verifies the shop's tokens ({key}), tokens optional"
