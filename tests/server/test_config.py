"""router.yaml: validation errors name the key; every option is documented with its default."""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path
from typing import Any

import pytest

from router.config import ConfigError, RouterConfig, load_config, parse_config

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"limits": {"max_depht": 3}},
            "limits.max_depht: unknown option (known: introspection, max_aliases, "
            "max_deferred_parts, max_depth, "
            "max_fields, max_fragments, max_nesting, max_root_fields, max_tokens, "
            "planning_budget, planning_queue, planning_wait)",
        ),
        ({"traffic": {"retries": -1}}, "traffic.retries: must be >= 0, got -1"),
        (
            {"traffic": {"subgraph_timeout": "fast"}},
            "traffic.subgraph_timeout: expected float, got 'fast'",
        ),
        (
            {"traffic": {"circuit_breaker": {"failure_threshold": 0}}},
            "traffic.circuit_breaker.failure_threshold: must be >= 1, got 0",
        ),
        (
            {"telemetry": {"logging": {"format": "xml"}}},
            "telemetry.logging.format: expected one of json, text, got 'xml'",
        ),
        (
            {"headers": [{"propagate": "a", "remove": "b"}]},
            "headers[0]: a header rule needs exactly one of propagate, insert, remove",
        ),
        (
            {"headers": [{"insert": "x-a"}]},
            "headers[0].insert: give exactly one of value, from_claim",
        ),
        (
            {"subgraphs": {"orders": {"headers": [{"remove": "x", "rename": "y"}]}}},
            "subgraphs.orders.headers[0].rename: only with propagate",
        ),
        (
            {"auth": {"jwt": {"secret": "s", "jwks_file": "k.json"}}},
            "auth.jwt.jwks_file: give only one of secret, secret_env, jwks_file, jwks_url, "
            "public_key_file, public_key_env (also set: secret)",
        ),
        (
            {"auth": {"jwt": {"required": True}}},
            "auth.jwt.required: needs one of secret, secret_env, jwks_file, jwks_url, "
            "public_key_file, public_key_env",
        ),
        (
            {"auth": {"jwt": {"secret_env": "SHOPGRAPH_TEST_UNSET_SECRET"}}},
            "auth.jwt.secret_env: environment variable SHOPGRAPH_TEST_UNSET_SECRET is not set",
        ),
        ({"listen": "4000"}, "listen: must be HOST:PORT, got '4000'"),
        ({"headers": {"propagate": "a"}}, "headers: expected a list, got {'propagate': 'a'}"),
    ],
)
def test_bad_values_name_the_key(data: dict[str, Any], message: str):
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert str(caught.value) == message


def test_a_full_file_loads(tmp_path: Path):
    path = tmp_path / "router.yaml"
    path.write_text(
        "limits: {max_depth: 5, introspection: false}\n"
        "subgraphs:\n  orders:\n    timeout: 2\n    headers:\n      - remove: authorization\n"
    )
    config = load_config(path)
    assert config.limits.max_depth == 5 and config.limits.introspection is False
    assert config.subgraphs["orders"].timeout == 2.0
    assert config.subgraphs["orders"].headers[0].remove == "authorization"
    assert load_config(None) == RouterConfig() == parse_config(None)


def _leaves(cls: type, prefix: str) -> list[tuple[str, Any]]:
    hints = typing.get_type_hints(cls)
    out: list[tuple[str, Any]] = []
    instance = cls()
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        path = f"{prefix}{f.name}"
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if dataclasses.is_dataclass(hint):
            out += _leaves(hint, path + ".")  # type: ignore[arg-type]
        elif origin is dict and dataclasses.is_dataclass(args[1]):
            out += _leaves(args[1], path + ".<name>.")
        elif origin is list and dataclasses.is_dataclass(args[0]):
            out.append((path, None))
            out += _leaves(args[0], path + "[].")
        else:
            out.append((path, getattr(instance, f.name)))
    return out


def _yaml(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    return str(value)


def test_every_option_is_documented_with_its_default():
    rows = {}
    for line in DOC.read_text().splitlines():
        match = re.match(r"\| `([^`]+)` \| `([^`]*)` \|", line)
        if match:
            rows[match.group(1)] = match.group(2)
    # a subgraph's header rules are the same HeaderRule as the top-level ones
    leaves = [
        (path.replace("subgraphs.<name>.headers[].", "headers[]."), default)
        for path, default in _leaves(RouterConfig, "")
    ]
    assert len(leaves) > 40
    missing = [path for path, _ in leaves if path not in rows]
    assert missing == []
    wrong = {
        path: (rows[path], _yaml(default))
        for path, default in leaves
        if default is not None or not path.startswith(("headers", "subgraphs"))
        if rows[path] != _yaml(default)
    }
    assert wrong == {}
