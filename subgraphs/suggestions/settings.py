"""Where suggestions finds products, how many recompute workers it runs, and how often.

Read from the environment once, with what the caller passes winning (like orders).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

PRODUCTS_URL_ENV = "SHOPGRAPH_PRODUCTS_URL"
WORKERS_ENV = "SHOPGRAPH_SUGGESTIONS_WORKERS"
RECOMPUTE_ENV = "SHOPGRAPH_SUGGESTIONS_RECOMPUTE_SECONDS"

_FROM_ENV: dict[str, tuple[str, Any]] = {
    "products_url": (PRODUCTS_URL_ENV, str),
    "workers": (WORKERS_ENV, int),
    "recompute_seconds": (RECOMPUTE_ENV, float),
    "catalogue_seconds": ("SHOPGRAPH_SUGGESTIONS_CATALOGUE_SECONDS", float),
    "upstream_timeout": ("SHOPGRAPH_SUGGESTIONS_UPSTREAM_TIMEOUT", float),
}


@dataclass(frozen=True)
class SuggestionsSettings:
    """The suggestions subgraph's upstream, worker count and periods."""

    products_url: str = "http://127.0.0.1:4002/graphql"
    workers: int = 1  # processes of the recompute pool
    recompute_seconds: float = 300.0  # between full recomputes (and one at start); 0: none
    catalogue_seconds: float = 60.0  # between refreshes of the products' categories
    upstream_timeout: float = 2.0  # seconds per call to products (a fallback waits on it)
    events: bool = True  # consume the shop's events (off: a bench feeding the tables itself)

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"{WORKERS_ENV} must be at least 1")
        if self.recompute_seconds < 0 or self.catalogue_seconds < 0:
            raise ValueError("suggestions periods must not be negative")

    @classmethod
    def from_env(cls, env: Mapping[str, str], **given: Any) -> SuggestionsSettings:
        """The settings `env` names; `given` values that are not None win."""
        unknown = set(given) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"unknown suggestions settings: {', '.join(sorted(unknown))}")
        chosen = {name: value for name, value in given.items() if value is not None}
        for name, (variable, parse) in _FROM_ENV.items():
            if name not in chosen and env.get(variable):
                chosen[name] = parse(env[variable])
        return cls(**chosen)
