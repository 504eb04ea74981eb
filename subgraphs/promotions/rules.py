"""A promotion's kind and stored parameters <-> the engine's rule.

The `parameters` column holds JSON whose shape the kind decides; amounts are
decimal strings (JSON numbers would be floats to other readers):

- PERCENTAGE_OFF_CATEGORY: {"categorySlug": "tea", "percent": "15"}
- FIXED_AMOUNT_OVER_THRESHOLD: {"amount": "5.00", "threshold": "50.00", "currencyCode": "USD"}
- BUY_N_GET_M_FREE: {"categorySlug": "tea", "buy": 2, "get": 1}
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .engine import BuyNGetMFree, FixedAmountOverThreshold, PercentageOffCategory, Rule

PERCENTAGE_OFF_CATEGORY = "PERCENTAGE_OFF_CATEGORY"
FIXED_AMOUNT_OVER_THRESHOLD = "FIXED_AMOUNT_OVER_THRESHOLD"
BUY_N_GET_M_FREE = "BUY_N_GET_M_FREE"


def stored(rule: Rule) -> tuple[str, dict[str, Any]]:
    """The (kind, parameters) row values for `rule`."""
    if isinstance(rule, PercentageOffCategory):
        return PERCENTAGE_OFF_CATEGORY, {
            "categorySlug": rule.category_slug,
            "percent": str(rule.percent),
        }
    if isinstance(rule, FixedAmountOverThreshold):
        return FIXED_AMOUNT_OVER_THRESHOLD, {
            "amount": str(rule.amount),
            "threshold": str(rule.threshold),
            "currencyCode": rule.currency,
        }
    return BUY_N_GET_M_FREE, {"categorySlug": rule.category_slug, "buy": rule.buy, "get": rule.get}


def rule_of(kind: str, parameters: dict[str, Any]) -> Rule:
    """The engine rule a stored (kind, parameters) pair describes."""
    if kind == PERCENTAGE_OFF_CATEGORY:
        return PercentageOffCategory(parameters["categorySlug"], Decimal(parameters["percent"]))
    if kind == FIXED_AMOUNT_OVER_THRESHOLD:
        return FixedAmountOverThreshold(
            Decimal(parameters["amount"]),
            Decimal(parameters["threshold"]),
            parameters["currencyCode"],
        )
    if kind == BUY_N_GET_M_FREE:
        return BuyNGetMFree(
            parameters["categorySlug"], int(parameters["buy"]), int(parameters["get"])
        )
    raise ValueError(f"unknown promotion kind {kind!r}")
