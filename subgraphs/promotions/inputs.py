"""The admin mutations' inputs (their rules: validation.py).

createPromotion takes one input per kind, exactly one of which must be given:
a oneOf checked by validation, each kind's parameters typed by its own input.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from subgraphs.common.inputs import max_length
from subgraphs.common.types import CurrencyCode

# Input longer than this is refused outright (BAD_USER_INPUT) rather than judged.
_TEXT_LIMIT = 2000


@strawberry.input
class MoneyInput:
    """An amount and its currency as a client sends them."""

    amount: Decimal
    currency_code: CurrencyCode


@strawberry.input
class PercentageOffCategoryInput:
    """PERCENTAGE_OFF_CATEGORY: `percent` (0 < percent <= 100, 2 decimals) off a category."""

    category_slug: str = strawberry.field(metadata=max_length(_TEXT_LIMIT))
    percent: Decimal


@strawberry.input
class FixedAmountOverThresholdInput:
    """FIXED_AMOUNT_OVER_THRESHOLD: `amount` off a cart of at least `threshold`, one currency."""

    amount: MoneyInput
    threshold: MoneyInput


@strawberry.input
class BuyNGetMFreeInput:
    """BUY_N_GET_M_FREE: for every `buy` + `get` units of the category, `get` cheapest free."""

    category_slug: str = strawberry.field(metadata=max_length(_TEXT_LIMIT))
    buy: int
    get: int


@strawberry.input(description="Exactly one of the kind inputs must be given.")
class CreatePromotionInput:
    """A new promotion: its code, text, schedule, priority and exactly one kind's rule."""

    code: str = strawberry.field(
        description="3-32 letters, digits, '-' or '_'; stored upper-case.",
        metadata=max_length(_TEXT_LIMIT),
    )
    description: str = strawberry.field(
        description="1-500 characters, shown to customers.", metadata=max_length(_TEXT_LIMIT)
    )
    starts_at: datetime | None = strawberry.field(default=None, description="Default: now.")
    ends_at: datetime | None = strawberry.field(default=None, description="Null: no end.")
    priority: int = strawberry.field(default=0, description="0-1000; higher applies first.")
    percentage_off_category: PercentageOffCategoryInput | None = None
    fixed_amount_over_threshold: FixedAmountOverThresholdInput | None = None
    buy_n_get_m_free: BuyNGetMFreeInput | None = None


@strawberry.input
class SchedulePromotionInput:
    """A new schedule for an enabled promotion: `endsAt` null or left out means no end."""

    code: str = strawberry.field(metadata=max_length(_TEXT_LIMIT))
    starts_at: datetime
    ends_at: datetime | None = None


@strawberry.input
class DisablePromotionInput:
    """The promotion to disable for good."""

    code: str = strawberry.field(metadata=max_length(_TEXT_LIMIT))
