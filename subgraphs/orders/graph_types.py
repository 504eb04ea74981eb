"""GraphQL types the cart and the order both serve."""

from __future__ import annotations

import strawberry
from strawberry.federation.schema_directives import Key

from subgraphs.common.errors import ApiError
from subgraphs.common.types import Money


@strawberry.federation.type(keys=[Key(fields="id", resolvable=False)])
class Product:
    """A product of the catalogue (resolved by products and inventory)."""

    id: strawberry.ID


@strawberry.type(description="A promotion that took money off a cart or an order.")
class AppliedPromotion:
    """One promotion's discount, as the promotions subgraph quoted it."""

    code: str
    description: str
    amount: Money = strawberry.field(description="What this promotion takes off.")


class CurrencyMismatch(ApiError):
    """The cart's products are priced in several currencies, so it has no one total."""

    code = "CURRENCY_MISMATCH"


class CartFull(ApiError):
    """The cart holds more than one order can (lines or money), so it is not priced."""

    code = "CART_FULL"
