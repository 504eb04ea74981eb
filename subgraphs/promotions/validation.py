"""The rules the admin mutations' inputs must follow: each broken one is a userError
naming its input field (`["input", "buyNGetMFree", "get"]`).

Category slugs are not checked against the catalogue: promotions does not own
categories, and a promotion may be set up before its category has products. A
slug must only be well-formed, as products' slugs are ("tea", "mugs-cups"), so
a category's name typed instead ("Tea") is caught.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from subgraphs.common.moments import moment_problem
from subgraphs.common.types import (
    MONEY_PRECISION,
    MONEY_SCALE,
    UserError,
    UserErrorCode,
    decimal_problem,
    user_error,
)

from .engine import BuyNGetMFree, FixedAmountOverThreshold, PercentageOffCategory, Rule
from .inputs import (
    BuyNGetMFreeInput,
    CreatePromotionInput,
    FixedAmountOverThresholdInput,
    PercentageOffCategoryInput,
)
from .models import CODE_LENGTH, DESCRIPTION_LENGTH
from .store import NewPromotion

SLUG_LENGTH = 100
MAX_PRIORITY = 1000
MAX_GROUP = 100  # buy and get are at most this many units
_CODE = re.compile(rf"[A-Z0-9][A-Z0-9_-]{{2,{CODE_LENGTH - 1}}}")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _invalid(message: str, *field: str) -> UserError:
    return user_error(UserErrorCode.INVALID_INPUT, message, "input", *field)


def normalized_code(code: str) -> str:
    """A code as stored: trimmed and upper-case (customers need not mind the case)."""
    return code.strip().upper()


def code_errors(code: str) -> list[UserError]:
    """Whether `code` (normalized) is a well-formed promotion code."""
    if _CODE.fullmatch(code):
        return []
    return [_invalid(f"code must be 3-{CODE_LENGTH} letters, digits, '-' or '_'", "code")]


def _slug_errors(slug: str, *field: str) -> list[UserError]:
    if len(slug) <= SLUG_LENGTH and _SLUG.fullmatch(slug):
        return []
    message = (
        "categorySlug must be a category's slug: lower-case letters and digits, words joined "
        f"by '-', at most {SLUG_LENGTH} characters (e.g. \"tea\")"
    )
    return [_invalid(message, *field)]


def _positive_money(value: Decimal, name: str, *field: str) -> list[UserError]:
    # the column's bounds first: a NaN cannot even be compared with 0
    if decimal_problem(value, MONEY_PRECISION, MONEY_SCALE) is None and value > 0:
        return []
    return [_invalid(f"{name} must be more than 0 with at most 2 decimals", *field)]


def _percentage(given: PercentageOffCategoryInput) -> tuple[Rule, list[UserError]]:
    at = "percentageOffCategory"
    errors = _slug_errors(given.category_slug, at, "categorySlug")
    percent = given.percent
    if decimal_problem(percent, 5, 2) is not None or not 0 < percent <= 100:
        errors.append(
            _invalid(
                "percent must be more than 0 and at most 100, with at most 2 decimals",
                at,
                "percent",
            )
        )
    return PercentageOffCategory(given.category_slug, percent), errors


def _fixed(given: FixedAmountOverThresholdInput) -> tuple[Rule, list[UserError]]:
    at = "fixedAmountOverThreshold"
    amount, threshold = given.amount, given.threshold
    errors = [
        *_positive_money(amount.amount, "amount", at, "amount", "amount"),
        *_positive_money(threshold.amount, "threshold", at, "threshold", "amount"),
    ]
    if amount.currency_code != threshold.currency_code:
        errors.append(
            user_error(
                UserErrorCode.CURRENCY_MISMATCH,
                "amount and threshold must be in the same currency",
                "input",
                at,
                "threshold",
                "currencyCode",
            )
        )
    elif not errors and amount.amount > threshold.amount:
        # more off than the cart must be worth would give carts away
        errors.append(_invalid("amount must not exceed threshold", at, "amount", "amount"))
    rule = FixedAmountOverThreshold(amount.amount, threshold.amount, amount.currency_code.value)
    return rule, errors


def _buy_get(given: BuyNGetMFreeInput) -> tuple[Rule, list[UserError]]:
    at = "buyNGetMFree"
    errors = _slug_errors(given.category_slug, at, "categorySlug")
    for name, value in (("buy", given.buy), ("get", given.get)):
        if not 1 <= value <= MAX_GROUP:
            errors.append(_invalid(f"{name} must be 1-{MAX_GROUP}", at, name))
    return BuyNGetMFree(given.category_slug, given.buy, given.get), errors


def _rule(input: CreatePromotionInput) -> tuple[Rule | None, list[UserError]]:
    """The one kind's rule the input gives, or a userError if it gives none or several."""
    kinds: dict[str, tuple[Any, Callable[[Any], tuple[Rule, list[UserError]]]]] = {
        "percentageOffCategory": (input.percentage_off_category, _percentage),
        "fixedAmountOverThreshold": (input.fixed_amount_over_threshold, _fixed),
        "buyNGetMFree": (input.buy_n_get_m_free, _buy_get),
    }
    given = [name for name, (value, _) in kinds.items() if value is not None]
    if len(given) != 1:
        found = ", ".join(given) or "none"
        return None, [_invalid(f"give exactly one of {', '.join(kinds)} (got {found})")]
    value, check = kinds[given[0]]
    return check(value)


def schedule_errors(
    starts_at: datetime, ends_at: datetime | None, now: datetime
) -> list[UserError]:
    """Both moments carry their UTC offset and can be stored (years 1-9999 in UTC),
    and the promotion ends after it starts and after `now` (an end already past would
    create or leave it expired)."""
    moments = (("startsAt", starts_at), ("endsAt", ends_at))
    errors = [
        _invalid(f"{name} {problem}", name)
        for name, value in moments
        if value is not None and (problem := moment_problem(value)) is not None
    ]
    if errors or ends_at is None:
        return errors
    if ends_at <= starts_at:
        return [_invalid("endsAt must be after startsAt", "endsAt")]
    if ends_at <= now:
        return [_invalid("endsAt must be in the future", "endsAt")]
    return []


def _text_errors(input: CreatePromotionInput) -> list[UserError]:
    errors = code_errors(normalized_code(input.code))
    if not 1 <= len(input.description.strip()) <= DESCRIPTION_LENGTH:
        errors.append(
            _invalid(f"description must be 1-{DESCRIPTION_LENGTH} characters", "description")
        )
    if not 0 <= input.priority <= MAX_PRIORITY:
        errors.append(_invalid(f"priority must be 0-{MAX_PRIORITY}", "priority"))
    return errors


def new_promotion(
    input: CreatePromotionInput, now: datetime
) -> tuple[NewPromotion | None, list[UserError]]:
    """The promotion `input` describes, or every rule it breaks."""
    starts_at = input.starts_at or now
    rule, rule_errors = _rule(input)
    errors = [*_text_errors(input), *schedule_errors(starts_at, input.ends_at, now), *rule_errors]
    if errors or rule is None:
        return None, errors
    return (
        NewPromotion(
            code=normalized_code(input.code),
            description=input.description.strip(),
            rule=rule,
            priority=input.priority,
            starts_at=starts_at,
            ends_at=input.ends_at,
        ),
        [],
    )
