"""Operations and helpers the promotions tests share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from subgraph_stack import Stack, admin_token

PROMOTION_FIELDS = """
  id code description kind status startsAt endsAt
  rule {
    __typename
    ... on PercentageOffCategoryRule { categorySlug percent }
    ... on FixedAmountOverThresholdRule {
      amount { amount currencyCode } threshold { amount currencyCode }
    }
    ... on BuyNGetMFreeRule { categorySlug buy get }
  }
"""
PAYLOAD = (
    f"promotion {{ {PROMOTION_FIELDS} priority disabledAt }} userErrors {{ code field message }}"
)
CREATE = f"""
mutation Create($input: CreatePromotionInput!) {{ createPromotion(input: $input) {{ {PAYLOAD} }} }}
"""
SCHEDULE = f"""
mutation Schedule($input: SchedulePromotionInput!) {{
  schedulePromotion(input: $input) {{ {PAYLOAD} }}
}}
"""
DISABLE = f"""
mutation Disable($input: DisablePromotionInput!) {{
  disablePromotion(input: $input) {{ {PAYLOAD} }}
}}
"""
ACTIVE = "{ activePromotions { code description endsAt status } }"
QUOTE = """
query Quote($input: DiscountQuoteInput!) {
  quoteDiscounts(input: $input) {
    discounts { code description amount { amount currencyCode } }
    discountTotal { amount currencyCode }
  }
}
"""


def iso(moment: datetime) -> str:
    """A DateTime argument."""
    return moment.isoformat()


def hours(count: float) -> str:
    """`count` hours from now (negative: ago), as a DateTime argument."""
    return iso(datetime.now(UTC) + timedelta(hours=count))


def buy_get(category: str = "tea", buy: int = 2, get: int = 1) -> dict[str, Any]:
    """A BUY_N_GET_M_FREE kind input."""
    return {"buyNGetMFree": {"categorySlug": category, "buy": buy, "get": get}}


def percent_off(category: str, percent: str) -> dict[str, Any]:
    """A PERCENTAGE_OFF_CATEGORY kind input."""
    return {"percentageOffCategory": {"categorySlug": category, "percent": percent}}


def fixed(amount: str, threshold: str, currency: str = "USD") -> dict[str, Any]:
    """A FIXED_AMOUNT_OVER_THRESHOLD kind input."""
    return {
        "fixedAmountOverThreshold": {
            "amount": {"amount": amount, "currencyCode": currency},
            "threshold": {"amount": threshold, "currencyCode": currency},
        }
    }


async def create(stack: Stack, code: str, kind: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """createPromotion as an admin; its payload."""
    input = {"code": code, "description": f"{code} promotion", **kind, **fields}
    data = await stack.data("promotions", CREATE, {"input": input}, admin_token())
    payload: dict[str, Any] = data["createPromotion"]
    return payload


async def created(stack: Stack, code: str, kind: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A promotion createPromotion must accept."""
    payload = await create(stack, code, kind, **fields)
    assert payload["userErrors"] == [], payload["userErrors"]
    promotion: dict[str, Any] = payload["promotion"]
    return promotion
