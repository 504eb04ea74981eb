"""A cart's money: each line at the catalogue's price, minus what promotions take off.

The cart and checkout price the same way, through `price_lines`, so the total a
customer is shown is the total checkout charges unless a price or a promotion
changed in between (which checkout reports as PRICE_CHANGED). All arithmetic is
Decimal; a cart holds one currency.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from subgraphs.common.types import CENTS

from .clients import CatalogProduct, Discount, QuoteLine, UpstreamError
from .services import OrdersServices

# An empty cart has no currency of its own; its zero totals are in the shop's.
DEFAULT_CURRENCY = "USD"
# The most distinct products a cart holds: well below the lines promotions quotes at once
# (1000), so every cart can be priced, and a page a customer can read.
MAX_CART_LINES = 100
# What an order's NUMERIC(12, 2) money columns hold: no cart may come to more.
MAX_ORDER_AMOUNT = Decimal("9999999999.99")


class PricingUnavailable(Exception):
    """The catalogue or promotions could not be asked; `what` names which, for messages."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} is unavailable")
        self.what = what


class MixedCurrencies(Exception):
    """The cart's products are priced in more than one currency: it has no one total."""

    def __init__(self, currencies: set[str]) -> None:
        super().__init__(f"The cart mixes currencies ({', '.join(sorted(currencies))})")
        self.currencies = currencies


class CartTooLarge(Exception):
    """The cart holds more than one order can: too many lines or too much money."""


def money_text(amount: Decimal, currency: str) -> str:
    """An amount as a customer reads it: "19999999999.98 USD"."""
    return f"{amount.quantize(CENTS)} {currency}"


def _check_size(lines: Sequence[PricedLine], currency: str) -> None:
    """CartTooLarge unless an order can hold `lines` (checked before promotions is asked)."""
    if len(lines) > MAX_CART_LINES:
        raise CartTooLarge(
            f"The cart holds {len(lines)} products, more than the {MAX_CART_LINES} one order "
            "can; remove some"
        )
    subtotal = sum((line.line_total for line in lines), Decimal(0))
    if subtotal > MAX_ORDER_AMOUNT:
        raise CartTooLarge(
            f"The cart comes to {money_text(subtotal, currency)}, more than the "
            f"{money_text(MAX_ORDER_AMOUNT, currency)} one order can hold; lower a quantity"
        )


@dataclass(frozen=True)
class PricedLine:
    """A cart line with the product as the catalogue sells it now."""

    product: CatalogProduct
    quantity: int

    @property
    def unit_price(self) -> Decimal:
        """The product's current price."""
        return self.product.price

    @property
    def line_total(self) -> Decimal:
        """Unit price times quantity, to the cent."""
        return (self.product.price * self.quantity).quantize(CENTS)


@dataclass(frozen=True)
class PricedCart:
    """Lines whose products still exist, priced, with the promotions that apply."""

    lines: tuple[PricedLine, ...]
    currency: str
    discounts: tuple[Discount, ...]
    discount_total: Decimal
    missing: tuple[str, ...] = ()  # product ids no longer in the catalogue (not priced)

    @property
    def subtotal(self) -> Decimal:
        """The sum of the line totals."""
        return sum((line.line_total for line in self.lines), Decimal(0)).quantize(CENTS)

    @property
    def total(self) -> Decimal:
        """What the customer pays: subtotal minus discounts (never below zero)."""
        return max(self.subtotal - self.discount_total, Decimal(0)).quantize(CENTS)


async def catalogue(
    services: OrdersServices, product_ids: Sequence[str]
) -> dict[str, CatalogProduct]:
    """The catalogue's products among `product_ids`; PricingUnavailable if it cannot answer."""
    try:
        return await services.catalog.products(product_ids)
    except UpstreamError as exc:
        raise PricingUnavailable("The catalogue") from exc


def cart_currency(products: Sequence[CatalogProduct]) -> str:
    """The one currency of `products` (the shop's for none); MixedCurrencies if several."""
    currencies = {product.currency_code for product in products}
    if len(currencies) > 1:
        raise MixedCurrencies(currencies)
    return currencies.pop() if currencies else DEFAULT_CURRENCY


async def price_lines(services: OrdersServices, lines: Sequence[tuple[str, int]]) -> PricedCart:
    """Price (product id, quantity) lines: catalogue first, then the promotions' quote.

    Raises PricingUnavailable if either service cannot answer, MixedCurrencies if
    the products are not all in one currency, CartTooLarge if no order can hold
    them. Gone products are listed in `missing`.
    """
    found = await catalogue(services, [product_id for product_id, _ in lines])
    priced = tuple(PricedLine(found[pid], qty) for pid, qty in lines if pid in found)
    currency = cart_currency([line.product for line in priced])
    _check_size(priced, currency)
    quote_lines = [
        QuoteLine(line.product.id, line.product.category_slug, line.unit_price, line.quantity)
        for line in priced
    ]
    try:
        quote = await services.promotions.quote(quote_lines, currency)
    except UpstreamError as exc:
        raise PricingUnavailable("Promotions") from exc
    missing = tuple(pid for pid, _ in lines if pid not in found)
    return PricedCart(priced, currency, quote.discounts, quote.total.quantize(CENTS), missing)


async def price_many(
    services: OrdersServices, carts: Sequence[Sequence[tuple[str, int]]]
) -> list[PricedCart | BaseException]:
    """Each cart priced (concurrently); a cart that cannot be priced gets its exception."""
    return await asyncio.gather(
        *(price_lines(services, lines) for lines in carts), return_exceptions=True
    )
