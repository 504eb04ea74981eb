"""How the payments subgraph talks to its gateway: which one, how long it waits, when a
payment left in flight counts as stale.

Read from the environment once, with what the caller passes winning. The Stripe secret
key is read from the environment only (SHOPGRAPH_STRIPE_API_KEY) and never logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from subgraphs.common.settings import positive_number

GATEWAY_ENV = "SHOPGRAPH_PAYMENT_GATEWAY"
STRIPE_BASE_ENV = "SHOPGRAPH_STRIPE_API_BASE"
STRIPE_KEY_ENV = "SHOPGRAPH_STRIPE_API_KEY"
GATEWAYS = ("fake", "stripe")

_NUMBERS = {
    "timeout": "SHOPGRAPH_PAYMENT_TIMEOUT",
    "charge_wait": "SHOPGRAPH_PAYMENT_CHARGE_WAIT_SECONDS",
    "charge_budget": "SHOPGRAPH_PAYMENT_CHARGE_BUDGET_SECONDS",
    "pending_ttl": "SHOPGRAPH_PAYMENT_PENDING_TTL_SECONDS",
    "sweep_interval": "SHOPGRAPH_PAYMENT_SWEEP_SECONDS",
}


class PaymentSettingError(ValueError):
    """A payments setting holds a value the subgraph cannot run with."""


@dataclass(frozen=True)
class PaymentsSettings:
    """The gateway's name and address, and the subgraph's timeouts and periods (seconds)."""

    gateway: str = "fake"
    stripe_api_base: str = "https://api.stripe.com"
    timeout: float = 10.0  # per gateway call (a charge makes up to four)
    charge_wait: float = 5.0  # how long a second caller with one key waits for the first
    # The longest chargeOrder takes to answer (PENDING once it is spent, the charge going
    # on): below orders' call timeout (6 s), itself below the router's subgraph timeout.
    charge_budget: float = 5.0
    pending_ttl: float = 120.0  # a payment in flight longer than this is settled by the sweep
    sweep_interval: float = 30.0  # 0: no sweep

    @classmethod
    def from_env(cls, env: Mapping[str, str], **given: Any) -> PaymentsSettings:
        """The settings `env` names; `given` values that are not None win."""
        known = {f.name for f in fields(cls)}
        unknown = set(given) - known
        if unknown:
            raise TypeError(f"unknown payments settings: {', '.join(sorted(unknown))}")
        chosen: dict[str, Any] = {}
        for name, variable in _NUMBERS.items():
            if env.get(variable, "").strip():
                chosen[name] = positive_number(env, variable, 1.0)
        if env.get(GATEWAY_ENV, "").strip():
            chosen["gateway"] = env[GATEWAY_ENV].strip().lower()
        if env.get(STRIPE_BASE_ENV, "").strip():
            chosen["stripe_api_base"] = env[STRIPE_BASE_ENV].strip()
        chosen.update({name: value for name, value in given.items() if value is not None})
        settings = cls(**chosen)
        if settings.gateway not in GATEWAYS:
            raise PaymentSettingError(
                f"{GATEWAY_ENV} must be one of {', '.join(GATEWAYS)}, got {settings.gateway!r}"
            )
        return settings
