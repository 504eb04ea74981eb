"""The GraphQL Cart: shown only priced, from one `PricedCart` per cart state and request.

Every field of a cart (its lines, quantities and money) comes from one
`PricedCart` (the `cart_money` loader): the catalogue and promotions are asked
once per request however many fields and aliases a query selects. A cart that
cannot be priced now is not shown at all: `cart_of` raises SERVICE_UNAVAILABLE
(the catalogue or promotions unreachable), CURRENCY_MISMATCH or CART_FULL, and the
nullable field that asked for the cart answers null with that error. A total
is never shown without its discount, so the money fields are non-null.

Lines whose product is no longer in the catalogue are left out of what the cart
shows (lines, totalQuantity and totals); checkout drops them from the cart.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import strawberry

from subgraphs.common.context import Context
from subgraphs.common.errors import ServiceUnavailable
from subgraphs.common.types import Money

from . import cart as carts
from .graph_types import AppliedPromotion, CartFull, CurrencyMismatch, Product
from .price_digest import price_digest
from .pricing import (
    CartTooLarge,
    MixedCurrencies,
    PricedCart,
    PricedLine,
    PricingUnavailable,
    price_many,
)

CART_DESCRIPTION = (
    "The signed-in user's cart, priced now at the catalogue's prices and the running "
    "promotions: subtotal - discountTotal = total. A cart holds one currency. A line whose "
    "product is no longer in the catalogue is left out of lines, totalQuantity and the "
    "totals (checkout drops it from the cart)."
)
UNPRICED_NOTE = (
    "Null, with an error at its path, when the cart cannot be priced now: SERVICE_UNAVAILABLE "
    "if the catalogue or promotions cannot be reached, CURRENCY_MISMATCH if its products' "
    "currencies diverged, CART_FULL if it holds more than one order can (prices raised since "
    "its products were added) (a total is never shown without its discount)."
)


def _as_api_error(problem: BaseException) -> BaseException:
    if isinstance(problem, PricingUnavailable):
        return ServiceUnavailable(f"{problem.what} is unavailable; try again shortly")
    if isinstance(problem, MixedCurrencies):
        return CurrencyMismatch(f"{problem}; remove the products in the other currency")
    if isinstance(problem, CartTooLarge):
        return CartFull(str(problem))
    return problem


async def cart_money(context: Context, state: carts.CartState) -> PricedCart:
    """`state` priced, once per request however many fields ask (an ApiError if it cannot be)."""

    async def load(states: Sequence[carts.CartState]) -> list[PricedCart | BaseException]:
        lines = [[(str(line.product_id), line.quantity) for line in s.lines] for s in states]
        priced = await price_many(context.services, lines)
        return [p if isinstance(p, PricedCart) else _as_api_error(p) for p in priced]

    return await context.loader("cart_money", load).load(state)


async def cart_of(context: Context, state: carts.CartState) -> Cart:
    """The GraphQL cart of `state`, priced; raises SERVICE_UNAVAILABLE or CURRENCY_MISMATCH
    if it cannot be priced now."""
    return Cart.of(state, await cart_money(context, state))


@strawberry.type(description="A product in the cart, at its price now.")
class CartLine:
    """A priced cart line."""

    product: Product
    quantity: int
    added_at: datetime
    unit_price: Money = strawberry.field(description="The product's price now.")
    line_total: Money = strawberry.field(description="unitPrice times quantity.")

    @classmethod
    def of(cls, line: PricedLine, added_at: datetime, currency: str) -> CartLine:
        """The GraphQL line of `line`, added to the cart at `added_at`."""
        return cls(
            product=Product(id=strawberry.ID(line.product.id)),
            quantity=line.quantity,
            added_at=added_at,
            unit_price=Money.of(line.unit_price, currency),
            line_total=Money.of(line.line_total, currency),
        )


@strawberry.type(description=CART_DESCRIPTION)
class Cart:
    """The cart's lines still sold and its money, as priced for this request."""

    lines: list[CartLine]
    total_quantity: int = strawberry.field(description="The units of the lines shown.")
    updated_at: datetime | None
    subtotal: Money = strawberry.field(description="The sum of the line totals.")
    discount_total: Money = strawberry.field(
        description="What the applied promotions take off, together."
    )
    total: Money = strawberry.field(
        description="What checkout charges now: subtotal - discountTotal."
    )
    applied_promotions: list[AppliedPromotion] = strawberry.field(
        description="The promotions that apply to the cart now."
    )
    price_digest: str = strawberry.field(
        description="An opaque digest of the money this cart shows: each line's product, "
        "quantity, unit price and currency, and each applied promotion's code and amount. "
        "Send it as CheckoutInput.expectedPriceDigest: checkout then refuses with "
        "PRICE_CHANGED if any of them changed, even when the total did not. Do not parse it."
    )

    @classmethod
    def of(cls, state: carts.CartState, money: PricedCart) -> Cart:
        """The GraphQL cart of `state` priced as `money` (lines of gone products left out)."""
        added_at = {str(line.product_id): line.added_at for line in state.lines}
        currency = money.currency
        return cls(
            lines=[CartLine.of(ln, added_at[ln.product.id], currency) for ln in money.lines],
            total_quantity=sum(line.quantity for line in money.lines),
            updated_at=state.updated_at,
            subtotal=Money.of(money.subtotal, currency),
            discount_total=Money.of(money.discount_total, currency),
            total=Money.of(money.total, currency),
            applied_promotions=[
                AppliedPromotion(
                    code=d.code, description=d.description, amount=Money.of(d.amount, currency)
                )
                for d in money.discounts
            ],
            price_digest=price_digest(money),
        )
