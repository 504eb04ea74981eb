"""No JWT signing secret in the source (issue 10, finding 6): every entry point refuses to
start without a key of its own, a short secret is refused, and `shopgraph dev` keeps one
generated secret per data folder (mode 0600) unless SHOPGRAPH_JWT_SECRET is given."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from subgraphs.commands.dev import DevError, signing_secret
from subgraphs.common.auth import ADMIN, JwtConfigError, TokenCodec
from subgraphs.common.errors import Unauthenticated
from subgraphs.stack import SUBGRAPHS, create_app
from tests.server.dev_stack import free_ports

ROOT = Path(__file__).resolve().parents[1]
# The HS256 secret every service used when SHOPGRAPH_JWT_SECRET was unset, before issue 10.
PUBLISHED_SECRET = "shopgraph-dev-secret-change-me-in-production"


def _without_jwt(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPGRAPH_JWT_")}
    return {**env, **extra}


def _serve_subgraph(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # An unused port and an unreachable DATABASE_URL: if the check let it through, the
    # process would fail later with another message (or start serving and time out).
    return subprocess.run(
        [sys.executable, "-m", "subgraphs", "products", "--port", "1"],
        env={**env, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_a_subgraph_without_a_secret_refuses_to_start():
    done = _serve_subgraph(_without_jwt())
    assert done.returncode == 2
    assert done.stderr.startswith("python -m subgraphs products: no JWT signing secret: set "
                                  "SHOPGRAPH_JWT_SECRET to a random secret of at least 32 bytes")
    assert "SHOPGRAPH_JWT_PUBLIC_KEY" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_a_subgraph_with_a_short_secret_refuses_to_start():
    done = _serve_subgraph(_without_jwt(SHOPGRAPH_JWT_SECRET="x" * 31))
    assert done.returncode == 2
    assert "SHOPGRAPH_JWT_SECRET is too short (31 bytes, at least 32 needed)" in done.stderr
    assert "x" * 31 not in done.stderr  # the secret itself is never shown
    assert "Traceback" not in done.stderr


def test_a_subgraph_with_an_unreadable_public_key_refuses_to_start(tmp_path: Path):
    missing = tmp_path / "public.pem"
    done = _serve_subgraph(_without_jwt(SHOPGRAPH_JWT_PUBLIC_KEY=str(missing)))
    assert done.returncode == 2
    assert f"SHOPGRAPH_JWT_PUBLIC_KEY is neither PEM text nor a readable file " \
           f"(No such file or directory: {missing})" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_app_factory_needs_a_key(monkeypatch: pytest.MonkeyPatch):
    for name in ("SHOPGRAPH_JWT_SECRET", "SHOPGRAPH_JWT_PUBLIC_KEY", "SHOPGRAPH_JWT_PRIVATE_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(JwtConfigError, match=r"^no JWT signing secret: set SHOPGRAPH_JWT_SECRET"):
        create_app("products", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("SHOPGRAPH_JWT_SECRET", secrets.token_urlsafe(32))
    assert create_app("products", "postgresql://nobody@127.0.0.1:1/none").name == "products"


def test_short_secrets_are_refused_however_given():
    with pytest.raises(JwtConfigError, match=r"too short \(5 bytes, at least 32 needed\)"):
        TokenCodec("HS256", "short", "short")
    with pytest.raises(JwtConfigError, match=r"too short \(31 bytes"):
        TokenCodec.from_env({"SHOPGRAPH_JWT_SECRET": "é" * 15 + "x"})  # counted in bytes
    secret = secrets.token_urlsafe(32)
    assert TokenCodec.from_env({"SHOPGRAPH_JWT_SECRET": secret}).verifying_key == secret


def test_dev_generates_a_private_secret_once_per_data_folder(tmp_path: Path):
    env, source = signing_secret(tmp_path, {})
    path = tmp_path / "jwt-secret"
    assert source == f"generated in {path} (mode 0600)"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = env["SHOPGRAPH_JWT_SECRET"]
    assert path.read_text() == secret + "\n"
    assert len(secret.encode()) >= 64
    assert list(tmp_path.iterdir()) == [path]  # no partial file left behind

    again, source = signing_secret(tmp_path, {})
    assert again == env and source == f"kept in {path} (mode 0600)"
    other, _ = signing_secret(tmp_path / "other", {})
    assert other["SHOPGRAPH_JWT_SECRET"] != secret


def test_dev_prefers_the_environment_and_then_writes_nothing(tmp_path: Path):
    secret = secrets.token_urlsafe(32)
    assert signing_secret(tmp_path, {"SHOPGRAPH_JWT_SECRET": secret}) == (
        {}, "from SHOPGRAPH_JWT_SECRET"
    )
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(DevError, match=r"SHOPGRAPH_JWT_SECRET is too short \(4 bytes"):
        signing_secret(tmp_path, {"SHOPGRAPH_JWT_SECRET": "weak"})


def test_dev_refuses_a_secret_file_others_can_read(tmp_path: Path):
    signing_secret(tmp_path, {})
    path = tmp_path / "jwt-secret"
    path.chmod(0o644)
    with pytest.raises(DevError) as raised:
        signing_secret(tmp_path, {})
    assert str(raised.value) == (
        f"{path} can be read by other users (mode 0644): the JWT secret in it may be known; "
        "delete the file for a new one (or chmod 600 it)"
    )
    path.write_text("short\n")
    path.chmod(0o600)
    with pytest.raises(DevError, match=r"too short \(5 bytes.*; delete the file for a new one"):
        signing_secret(tmp_path, {})


def test_dev_with_a_short_secret_stops_before_starting_anything(tmp_path: Path):
    # Free ports, so that were the check missing the stack would not take the default ones.
    ports = free_ports(4 + len(SUBGRAPHS))
    argv = [sys.executable, "-m", "router.cli", "dev", "--data-dir", str(tmp_path)]
    argv += ["--router-port", str(ports[0]), "--nats-port", str(ports[1])]
    argv += ["--nats-monitor-port", str(ports[2]), "--mail-port", str(ports[3])]
    pairs = zip(SUBGRAPHS, ports[4:], strict=True)
    argv += [f"--subgraph-port={name}={port}" for name, port in pairs]
    done = subprocess.run(
        argv,
        env=_without_jwt(SHOPGRAPH_JWT_SECRET="too-short"),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 1
    assert done.stderr.startswith(
        "shopgraph dev: SHOPGRAPH_JWT_SECRET is too short (9 bytes, at least 32 needed)"
    )
    assert "[1/" not in done.stdout
    assert "Traceback" not in done.stderr


def test_a_token_signed_with_the_published_secret_is_worthless():
    forged = jwt.encode({"sub": "x", "role": ADMIN, "iss": "shopgraph", "exp": 2**31},
                        PUBLISHED_SECRET, algorithm="HS256")
    with pytest.raises(JwtConfigError):
        TokenCodec.from_env({})
    codec = TokenCodec.from_env({"SHOPGRAPH_JWT_SECRET": secrets.token_urlsafe(32)})
    with pytest.raises(Unauthenticated, match=r"^Invalid token$"):
        codec.verify(forged)
