"""The GraphQL Cart: its lines, and its money computed once per request.

Money fields are resolved from one `PricedCart` per cart state and request
(the `cart_money` loader), however many of them a query selects. They are
nullable so that a cart that cannot be priced now (the catalogue or
promotions unreachable: SERVICE_UNAVAILABLE) still answers its lines and
quantities, its money fields null with the error; a total is never shown
without its discount.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import strawberry

from subgraphs.common.context import Context
from subgraphs.common.errors import NotFound, ServiceUnavailable
from subgraphs.common.types import Money

from . import cart as carts
from .graph_types import AppliedPromotion, CurrencyMismatch, Product
from .pricing import MixedCurrencies, PricedCart, PricedLine, PricingUnavailable, price_many

Info = strawberry.Info[Context, None]
_UNAVAILABLE_NOTE = (
    "Null (with an error at this path) only when the cart cannot be priced now: "
    "SERVICE_UNAVAILABLE if the catalogue or promotions cannot be reached, "
    "CURRENCY_MISMATCH if its products' currencies diverged."
)
_LINE_NOTE = _UNAVAILABLE_NOTE + " NOT_FOUND on a line whose product is no longer sold."


def _as_api_error(problem: BaseException) -> BaseException:
    if isinstance(problem, PricingUnavailable):
        return ServiceUnavailable(f"{problem.what} is unavailable; try again shortly")
    if isinstance(problem, MixedCurrencies):
        return CurrencyMismatch(f"{problem}; remove the products in the other currency")
    return problem


async def cart_money(context: Context, state: carts.CartState) -> PricedCart:
    """`state` priced, once per request however many fields ask (an ApiError if it cannot be)."""

    async def load(states: Sequence[carts.CartState]) -> list[PricedCart | BaseException]:
        lines = [[(str(line.product_id), line.quantity) for line in s.lines] for s in states]
        priced = await price_many(context.services, lines)
        return [p if isinstance(p, PricedCart) else _as_api_error(p) for p in priced]

    return await context.loader("cart_money", load).load(state)


@strawberry.type
class CartLine:
    """A product in the cart, with its current price."""

    product: Product
    quantity: int
    added_at: datetime
    cart: strawberry.Private[carts.CartState]

    async def _line(self, info: Info) -> tuple[PricedLine, str]:
        """This line priced, and the cart's currency; NOT_FOUND if the product is gone."""
        money = await cart_money(info.context, self.cart)
        line = money.line_of(str(self.product.id))
        if line is None:
            raise NotFound("This product is no longer sold; remove it from the cart")
        return line, money.currency

    @strawberry.field(description="The product's price now. " + _LINE_NOTE)
    async def unit_price(self, info: Info) -> Money | None:
        line, currency = await self._line(info)
        return Money.of(line.unit_price, currency)

    @strawberry.field(description="unitPrice times quantity. " + _LINE_NOTE)
    async def line_total(self, info: Info) -> Money | None:
        line, currency = await self._line(info)
        return Money.of(line.line_total, currency)


@strawberry.type(
    description="The signed-in user's cart, priced now: subtotal - discountTotal = total. "
    "A cart holds one currency."
)
class Cart:
    """The cart's lines and its money, priced at the catalogue's prices and promotions now."""

    lines: list[CartLine]
    total_quantity: int
    updated_at: datetime | None
    state: strawberry.Private[carts.CartState]

    @classmethod
    def of(cls, state: carts.CartState) -> Cart:
        """The GraphQL cart of `state`."""
        return cls(
            lines=[
                CartLine(
                    product=Product(id=strawberry.ID(str(line.product_id))),
                    quantity=line.quantity,
                    added_at=line.added_at,
                    cart=state,
                )
                for line in state.lines
            ],
            total_quantity=sum(line.quantity for line in state.lines),
            updated_at=state.updated_at,
            state=state,
        )

    @strawberry.field(description="The sum of the line totals. " + _UNAVAILABLE_NOTE)
    async def subtotal(self, info: Info) -> Money | None:
        money = await cart_money(info.context, self.state)
        return Money.of(money.subtotal, money.currency)

    @strawberry.field(
        description="What the applied promotions take off, together. " + _UNAVAILABLE_NOTE
    )
    async def discount_total(self, info: Info) -> Money | None:
        money = await cart_money(info.context, self.state)
        return Money.of(money.discount_total, money.currency)

    @strawberry.field(
        description="What checkout charges now: subtotal - discountTotal. " + _UNAVAILABLE_NOTE
    )
    async def total(self, info: Info) -> Money | None:
        money = await cart_money(info.context, self.state)
        return Money.of(money.total, money.currency)

    @strawberry.field(description="The promotions that apply to the cart now. " + _UNAVAILABLE_NOTE)
    async def applied_promotions(self, info: Info) -> list[AppliedPromotion] | None:
        money = await cart_money(info.context, self.state)
        return [
            AppliedPromotion(
                code=d.code,
                description=d.description,
                amount=Money.of(d.amount, money.currency),
            )
            for d in money.discounts
        ]
