"""compose.yaml, checked without Docker: every service, one image built from the project
(no Dockerfile at the top level) for all but PostgreSQL and NATS, ports (only the router's
published), health checks, depends_on conditions, the broker and mail wiring, a JWT secret
that must be given, and commands that our CLI accepts."""

from __future__ import annotations

import argparse
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from router import cli
from router.config import parse_config
from subgraphs.commands.dev import MAIL_PORT, NATS_MONITOR_PORT, NATS_PORT
from subgraphs.commands.router_config import shop_jwt
from subgraphs.stack import DEFAULT_PORTS, SUBGRAPHS

ROOT = Path(__file__).resolve().parents[1]
# Not built from the project: the database and the broker.
OFFICIAL = {"postgres", "nats"}


@pytest.fixture(scope="module")
def compose() -> dict:
    data: dict = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return data


def _shopgraph_accepts(argv: list[str]) -> argparse.Namespace:
    commands = cli.available_commands()
    assert argv[0] == "shopgraph" and argv[1] in commands, argv
    module = importlib.import_module(commands[argv[1]])
    parser = argparse.ArgumentParser(prog=f"shopgraph {argv[1]}", exit_on_error=False)
    module.configure(parser)
    return parser.parse_args(argv[2:])


def test_services_and_one_image(compose: dict):
    services = compose["services"]
    assert set(services) == {"postgres", "nats", "mail", "migrate", "router", *SUBGRAPHS}
    assert not (ROOT / "Dockerfile").exists()
    built = {name: s for name, s in services.items() if name not in OFFICIAL}
    assert {s["image"] for s in built.values()} == {"shopgraph:local"}
    for name, service in built.items():
        assert service["build"]["context"] == "."
        # the subgraphs, the mail sink and `shopgraph dev --prepare-only` need the shop extra
        assert "pip install --no-cache-dir '.[shop]'" in service["build"]["dockerfile_inline"]
        if name == "mail":  # the sink has no database and signs nothing
            assert service["environment"] == {}
            continue
        assert service["environment"]["DATABASE_URL"].startswith("postgresql://")
        assert "@postgres:5432/" in service["environment"]["DATABASE_URL"]
    assert services["postgres"]["image"].startswith("postgres:")
    # an official NATS image with a shell, so that its health check can run
    assert services["nats"]["image"] == "nats:2.10-alpine"
    assert {"pgdata", "natsdata", "mail"} <= set(compose["volumes"])


def test_health_checks_and_dependencies(compose: dict):
    services = compose["services"]
    healthy = {"condition": "service_healthy"}
    for name in ["postgres", "nats", "mail", "router", *SUBGRAPHS]:
        test = services[name]["healthcheck"]["test"]
        assert test[0] == "CMD"
    assert services["migrate"]["depends_on"] == {"postgres": healthy}
    for name in SUBGRAPHS:
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}
        assert depends["nats"] == healthy  # every subgraph publishes or consumes events
        port = DEFAULT_PORTS[name]
        assert f"http://127.0.0.1:{port}/health" in services[name]["healthcheck"]["test"][-1]
    # the services orders calls
    for upstream in ("inventory", "products", "promotions", "payments"):
        assert services["orders"]["depends_on"][upstream] == healthy
    assert services["suggestions"]["depends_on"]["products"] == healthy
    assert services["accounts"]["depends_on"]["mail"] == healthy  # it sends the mail
    assert services["router"]["depends_on"] == {
        name: {"condition": "service_healthy"} for name in SUBGRAPHS
    }
    assert services["router"]["ports"] == ["4000:4000"]
    assert "http://127.0.0.1:4000/ready" in services["router"]["healthcheck"]["test"][-1]


def test_commands_exist_in_our_cli(compose: dict):
    services = compose["services"]
    migrate = _shopgraph_accepts(services["migrate"]["command"])
    assert migrate.prepare_only is True
    router = _shopgraph_accepts(services["router"]["command"])
    assert router.listen == "0.0.0.0:4000"
    assert sorted(router.subgraph) == sorted(
        f"{name}=http://{name}:{DEFAULT_PORTS[name]}/graphql" for name in SUBGRAPHS
    )
    help_text = subprocess.run(
        [sys.executable, "-m", "subgraphs", "--help"], capture_output=True, text=True, cwd=ROOT
    ).stdout
    for name in SUBGRAPHS:
        command = services[name]["command"]
        assert command[:4] == ["python", "-m", "subgraphs", name]
        flags = command[4::2]
        assert flags == ["--host", "--port"]
        for flag in flags:
            assert flag in help_text
        assert command[-1] == str(DEFAULT_PORTS[name])
    # the services that talk to each other use the compose service names
    env = services["orders"]["environment"]
    assert env["SHOPGRAPH_INVENTORY_URL"] == "http://inventory:4003/graphql"
    assert env["SHOPGRAPH_PRODUCTS_URL"] == "http://products:4002/graphql"
    assert env["SHOPGRAPH_PROMOTIONS_URL"] == "http://promotions:4005/graphql"
    assert env["SHOPGRAPH_PAYMENTS_URL"] == "http://payments:4006/graphql"
    assert services["suggestions"]["environment"]["SHOPGRAPH_PRODUCTS_URL"] == (
        "http://products:4002/graphql"
    )
    for name in SUBGRAPHS:
        assert services[name]["environment"]["SHOPGRAPH_NATS_URL"] == f"nats://nats:{NATS_PORT}"
    accounts = services["accounts"]["environment"]
    assert (accounts["SHOPGRAPH_SMTP_HOST"], accounts["SHOPGRAPH_SMTP_PORT"]) == (
        "mail", str(MAIL_PORT)
    )


def test_the_broker_and_the_mail_sink(compose: dict):
    services = compose["services"]
    nats = services["nats"]
    # JetStream on, its store in a volume, monitoring (for /healthz) on the dev port
    assert nats["command"] == ["-js", "-sd", "/data", "-m", str(NATS_MONITOR_PORT)]
    assert nats["volumes"] == ["natsdata:/data"]
    assert f"http://127.0.0.1:{NATS_MONITOR_PORT}/healthz" in nats["healthcheck"]["test"]
    assert nats["expose"] == [str(NATS_PORT), str(NATS_MONITOR_PORT)]
    mail = services["mail"]
    command = mail["command"]
    assert command[:3] == ["python", "-m", "subgraphs.mailsink"]
    options = dict(zip(command[3::2], command[4::2], strict=True))
    assert options == {"--host": "0.0.0.0", "--port": str(MAIL_PORT),
                       "--maildir": "/var/mail/shopgraph"}
    sink_help = subprocess.run(
        [sys.executable, "-m", "subgraphs.mailsink", "--help"],
        capture_output=True, text=True, cwd=ROOT, check=True,
    ).stdout
    assert all(option in sink_help for option in options)
    assert mail["volumes"] == ["mail:/var/mail/shopgraph"]
    assert mail["expose"] == [str(MAIL_PORT)]
    probe = mail["healthcheck"]["test"]
    assert probe[:3] == ["CMD", "python", "-c"]
    assert f"('127.0.0.1', {MAIL_PORT})" in probe[3] and "b'220'" in probe[3]


def test_only_the_router_is_published(compose: dict):
    services = compose["services"]
    published = {name: s["ports"] for name, s in services.items() if "ports" in s}
    assert published == {"router": ["4000:4000"]}
    for name in SUBGRAPHS:
        assert services[name]["expose"] == [str(DEFAULT_PORTS[name])]


def _interpolate(value: str, environ: dict[str, str]) -> str:
    """Compose's `${NAME:?message}` and `${NAME:-default}` (the forms compose.yaml may use)."""

    def one(match: re.Match[str]) -> str:
        name, operator, rest = match.group(1), match.group(2), match.group(3)
        if environ.get(name):
            return environ[name]
        if operator == ":?":
            raise ValueError(f"required variable {name} is missing a value: {rest}")
        return rest

    return re.sub(r"\$\{(\w+)(:[?-])([^}]*)\}", one, value)


def test_the_jwt_secret_has_no_default(compose: dict):
    text = (ROOT / "compose.yaml").read_text()
    assert "SHOPGRAPH_JWT_SECRET:-" not in text
    for name, service in compose["services"].items():
        if name in OFFICIAL or name == "mail":
            continue
        value = service["environment"]["SHOPGRAPH_JWT_SECRET"]
        with pytest.raises(ValueError) as missing:
            _interpolate(value, {})
        assert str(missing.value) == (
            "required variable SHOPGRAPH_JWT_SECRET is missing a value: set "
            "SHOPGRAPH_JWT_SECRET to a random secret of at least 32 bytes, see the top of "
            "compose.yaml"
        )
        assert _interpolate(value, {"SHOPGRAPH_JWT_SECRET": "s" * 48}) == "s" * 48


def test_the_router_verifies_the_shops_tokens_as_in_dev(
    compose: dict, monkeypatch: pytest.MonkeyPatch
):
    router = compose["services"]["router"]
    args = _shopgraph_accepts(router["command"])
    assert router["configs"] == [{"source": "router-config", "target": args.config}]
    content = compose["configs"]["router-config"]["content"]
    assert "${" not in content  # compose would interpolate it
    data = yaml.safe_load(content)
    # the same edge verification `shopgraph dev` gives its router
    assert data == {"auth": {"jwt": shop_jwt({})}}
    monkeypatch.setenv("SHOPGRAPH_JWT_SECRET", "s" * 48)
    jwt = parse_config(data).auth.jwt
    assert (jwt.secret_env, jwt.issuer, jwt.required) == (
        "SHOPGRAPH_JWT_SECRET", "shopgraph", False
    )
    assert "SHOPGRAPH_JWT_SECRET" in router["environment"]
