"""`quoteDiscounts`: the internal query orders asks for a cart's discounts.

Its types are `@inaccessible` (not in the router's API) and the query answers
the service role only (subgraphs/common/internal.py). The input is bounded like
a cart: at most MAX_LINES lines of 1-MAX_LINE_QUANTITY units each. A malformed
quote (bad amount, lines in several currencies) is BAD_USER_INPUT naming the
input field: the caller is a service, so there is no customer to tell.
"""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from subgraphs.common.errors import BadUserInput
from subgraphs.common.ids import parse_uuid
from subgraphs.common.inputs import max_length
from subgraphs.common.types import MONEY_PRECISION, MONEY_SCALE, Money, decimal_problem

from . import engine, store
from .inputs import MoneyInput
from .objects import Info

MAX_LINES = 1000
# orders' MAX_LINE_QUANTITY: a cart line holds at most this many units
MAX_LINE_QUANTITY = 1000
_SLUG_LIMIT = 100
PRICE_RULE = "unitPrice.amount must be 0-9999999999.99 with at most 2 decimals and no minus sign"


@strawberry.federation.input(inaccessible=True)
class DiscountQuoteLineInput:
    """One cart line as orders sees it."""

    product_id: strawberry.ID
    category_slug: str = strawberry.field(metadata=max_length(_SLUG_LIMIT))
    unit_price: MoneyInput
    quantity: int


@strawberry.federation.input(inaccessible=True)
class DiscountQuoteInput:
    """A cart: every line in one currency."""

    lines: list[DiscountQuoteLineInput]


@strawberry.federation.type(inaccessible=True)
class PromotionDiscount:
    """What one promotion takes off the cart."""

    code: str
    description: str
    amount: Money


@strawberry.federation.type(inaccessible=True)
class DiscountQuote:
    """The discounts a cart earns, in the order they were applied, and their total."""

    discounts: list[PromotionDiscount]
    discount_total: Money = strawberry.field(description="Never more than the lines' subtotal.")


def _line(given: DiscountQuoteLineInput, index: int) -> engine.Line:
    at = ["input", "lines", str(index)]
    if parse_uuid(str(given.product_id)) is None:
        raise BadUserInput("productId must be a product id", field=[*at, "productId"])
    price = given.unit_price.amount
    # is_signed: a negative price, and "-0" too: PostgreSQL's numeric has no negative
    # zero, so no catalogue price reads so; a caller sending one has a sign bug to know of
    if decimal_problem(price, MONEY_PRECISION, MONEY_SCALE) is not None or price.is_signed():
        raise BadUserInput(PRICE_RULE, field=[*at, "unitPrice", "amount"])
    if not 1 <= given.quantity <= MAX_LINE_QUANTITY:
        raise BadUserInput(f"quantity must be 1-{MAX_LINE_QUANTITY}", field=[*at, "quantity"])
    currency = given.unit_price.currency_code.value
    return engine.Line(str(given.product_id), given.category_slug, price, given.quantity, currency)


def cart_lines(input: DiscountQuoteInput) -> list[engine.Line]:
    """The engine's lines for a quote input, or BadUserInput naming the first bad field."""
    if not 1 <= len(input.lines) <= MAX_LINES:
        raise BadUserInput(f"lines must hold 1-{MAX_LINES} lines", field=["input", "lines"])
    return [_line(line, index) for index, line in enumerate(input.lines)]


async def quote_discounts(info: Info, input: DiscountQuoteInput) -> DiscountQuote:
    """The discounts the promotions active now give the cart `input`."""
    lines = cart_lines(input)
    try:
        engine.cart_currency(lines)
    except engine.MixedCurrencies as mixed:
        raise BadUserInput(
            f"All lines must be in one currency ({mixed})", field=["input", "lines"]
        ) from mixed
    active = await store.active(info.context.db, datetime.now(UTC))
    result = engine.quote([store.offer_of(row) for row in active], lines)
    return DiscountQuote(
        discounts=[
            PromotionDiscount(
                code=d.code, description=d.description, amount=Money.of(d.amount, result.currency)
            )
            for d in result.discounts
        ],
        discount_total=Money.of(result.total, result.currency),
    )
