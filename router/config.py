"""`router.yaml`: the router's configuration, validated on load.

Every option has a default, so an empty file (or none) is a valid configuration.
Unknown keys and wrong types are errors that name the offending key.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, get_type_hints

import yaml


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class SubgraphConfig:
    url: str | None = None  # override the URL from the supergraph
    timeout: float | None = None  # seconds; falls back to traffic.subgraph_timeout


@dataclass(frozen=True)
class TrafficConfig:
    subgraph_timeout: float = 30.0
    max_body_bytes: int = 2 * 1024 * 1024


@dataclass(frozen=True)
class RouterConfig:
    listen: str = "127.0.0.1:4000"
    supergraph: str | None = None
    plan_cache_size: int = 1024
    traffic: TrafficConfig = field(default_factory=TrafficConfig)
    subgraphs: dict[str, SubgraphConfig] = field(default_factory=dict)


def _build(cls: type, data: Any, where: str) -> Any:
    if data is None:
        return cls()
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'config'}: expected a mapping, got {type(data).__name__}")
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in known:
            raise ConfigError(f"{path}: unknown option (known: {', '.join(sorted(known))})")
        values[key] = _coerce(hints[key], value, path)
    return cls(**values)


def _coerce(hint: Any, value: Any, path: str) -> Any:
    origin = getattr(hint, "__origin__", None)
    args = getattr(hint, "__args__", ())
    if is_dataclass(hint):
        return _build(hint, value, path)
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a mapping")
        return {str(k): _coerce(args[1], v, f"{path}.{k}") for k, v in value.items()}
    if type(None) in args:  # Optional[X]
        if value is None:
            return None
        inner = next(a for a in args if a is not type(None))
        return _coerce(inner, value, path)
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint is str and isinstance(value, str):
        return value
    if hint is bool and isinstance(value, bool):
        return value
    raise ConfigError(f"{path}: expected {getattr(hint, '__name__', hint)}, got {value!r}")


def load_config(path: str | Path | None) -> RouterConfig:
    if path is None:
        return RouterConfig()
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {error}") from error
    return _build(RouterConfig, data, "")
