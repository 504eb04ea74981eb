"""Where the orders subgraph finds the other services and how long it waits for them.

Read from the environment once, with what the caller passes winning, so the app is built
from one frozen value rather than from a dozen scattered lookups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

INVENTORY_URL_ENV = "SHOPGRAPH_INVENTORY_URL"
PRODUCTS_URL_ENV = "SHOPGRAPH_PRODUCTS_URL"
PROMOTIONS_URL_ENV = "SHOPGRAPH_PROMOTIONS_URL"
PAYMENTS_URL_ENV = "SHOPGRAPH_PAYMENTS_URL"

# each setting's environment variable, and how its text becomes the setting's value
_FROM_ENV: dict[str, tuple[str, Any]] = {
    "inventory_url": (INVENTORY_URL_ENV, str),
    "products_url": (PRODUCTS_URL_ENV, str),
    "promotions_url": (PROMOTIONS_URL_ENV, str),
    "payments_url": (PAYMENTS_URL_ENV, str),
    "upstream_timeout": ("SHOPGRAPH_UPSTREAM_TIMEOUT", float),
    "reservation_ttl": (
        "SHOPGRAPH_RESERVATION_TTL_SECONDS",
        lambda text: timedelta(seconds=int(text)),
    ),
    "sweep_interval": ("SHOPGRAPH_SWEEP_SECONDS", float),
    "payments_call_timeout": ("SHOPGRAPH_PAYMENTS_CALL_TIMEOUT", float),
    "payment_claim_ttl": (
        "SHOPGRAPH_PAYMENT_CLAIM_TTL_SECONDS",
        lambda text: timedelta(seconds=float(text)),
    ),
}


@dataclass(frozen=True)
class OrdersSettings:
    """The orders subgraph's upstream URLs, timeouts and periods."""

    inventory_url: str = "http://127.0.0.1:4003/graphql"
    products_url: str = "http://127.0.0.1:4002/graphql"
    promotions_url: str = "http://127.0.0.1:4005/graphql"
    payments_url: str = "http://127.0.0.1:4006/graphql"
    upstream_timeout: float = 5.0  # seconds per call to inventory, products, promotions
    reservation_ttl: timedelta = timedelta(seconds=900)  # how long checkout holds stock
    sweep_interval: float = 10.0  # seconds between expiry sweeps
    # seconds per call to payments (chargeOrder, settlePayment): above payments' charge
    # budget (5 s), so payments answers PENDING first, and below the router's default
    # subgraph timeout (10 s), so the shopper gets pay's own answer, not the router's error
    payments_call_timeout: float = 6.0
    payment_claim_ttl: timedelta = timedelta(seconds=120)  # a claim older than this is stale

    @classmethod
    def from_env(cls, env: Mapping[str, str], **given: Any) -> OrdersSettings:
        """The settings `env` names (SHOPGRAPH_INVENTORY_URL, ...); `given` values that are
        not None win (0 too: a sweep interval of 0 turns the sweep off), and what neither
        sets keeps its default."""
        known = {f.name for f in fields(cls)}
        unknown = set(given) - known
        if unknown:
            raise TypeError(f"unknown orders settings: {', '.join(sorted(unknown))}")
        chosen: dict[str, Any] = {}
        for name, (variable, parse) in _FROM_ENV.items():
            if given.get(name) is not None:
                chosen[name] = given[name]
            elif env.get(variable):
                chosen[name] = parse(env[variable])
        return cls(**chosen)
