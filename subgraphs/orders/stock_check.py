"""Whether a cart line may hold a quantity: the product exists, fits the cart's currency
and has the units available.

A check, not a hold: stock is only reserved at checkout, which checks again.
Messages name the product as the customer sees it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from subgraphs.common.types import CENTS, UserError, UserErrorCode, echo, user_error

from .clients import CatalogProduct, UpstreamError
from .pricing import MAX_ORDER_AMOUNT, PricedLine, PricingUnavailable, catalogue, money_text
from .services import OrdersServices

MAX_LINE_QUANTITY = 1000


def invalid_quantity(lowest: int = 1) -> UserError:
    """INVALID_QUANTITY on the input's quantity: outside `lowest`..MAX_LINE_QUANTITY."""
    return user_error(
        UserErrorCode.INVALID_QUANTITY,
        f"quantity must be between {lowest} and {MAX_LINE_QUANTITY}",
        "input",
        "quantity",
    )


def _units_of(available: int, name: str) -> str:
    return f"1 of {name} is" if available == 1 else f"{available} of {name} are"


def insufficient_stock(name: str, available: int, in_cart: int = 0) -> UserError:
    """INSUFFICIENT_STOCK on the input's quantity, naming the product."""
    if available <= 0:
        message = f"{name} is out of stock"
    else:
        message = f"Only {_units_of(available, name)} available"
        if in_cart:
            message += f"; your cart already has {in_cart}"
    return user_error(UserErrorCode.INSUFFICIENT_STOCK, message, "input", "quantity")


def too_costly(product: CatalogProduct, quantity: int, cart_total: Decimal) -> UserError:
    """INVALID_QUANTITY on the input's quantity: the cart would outgrow what an order holds."""
    currency = product.currency_code
    return user_error(
        UserErrorCode.INVALID_QUANTITY,
        f"{quantity} of {product.name} would bring your cart to {money_text(cart_total, currency)}"
        f", more than the {money_text(MAX_ORDER_AMOUNT, currency)} one order can hold",
        "input",
        "quantity",
    )


@dataclass(frozen=True)
class LineCheck:
    """A product with the units it has available and the units the cart already holds,
    and what the cart's other lines come to."""

    product: CatalogProduct
    available: int
    in_cart: int = 0
    others_subtotal: Decimal = Decimal(0)

    @property
    def limit(self) -> int:
        """The most units the product's line may hold now."""
        return min(MAX_LINE_QUANTITY, self.available)

    def refusal(self, quantity: int) -> UserError | None:
        """Why the line may not hold `quantity` units, or None if it may."""
        if quantity > self.available:
            return insufficient_stock(self.product.name, self.available, self.in_cart)
        if quantity > MAX_LINE_QUANTITY:
            return invalid_quantity()
        cart_total = (self.product.price * quantity).quantize(CENTS) + self.others_subtotal
        if cart_total > MAX_ORDER_AMOUNT:
            return too_costly(self.product, quantity, cart_total)
        return None


def product_not_found(product_id: str) -> UserError:
    """PRODUCT_NOT_FOUND on the input's productId."""
    return user_error(
        UserErrorCode.PRODUCT_NOT_FOUND,
        f"No product with id {echo(product_id)}",
        "input",
        "productId",
    )


def _currency_mismatch(product: CatalogProduct, cart_currency: str) -> UserError:
    return user_error(
        UserErrorCode.CURRENCY_MISMATCH,
        f"{product.name} is priced in {product.currency_code} but your cart is in "
        f"{cart_currency}; a cart holds one currency",
        "input",
        "productId",
    )


async def _available(services: OrdersServices, product_id: str) -> int:
    try:
        levels = await services.inventory.available([product_id])
    except UpstreamError as exc:
        raise PricingUnavailable("Inventory") from exc
    return levels[product_id]


async def check_addition(
    services: OrdersServices, product_id: str, in_cart: Mapping[str, int]
) -> LineCheck | UserError:
    """Check `product_id` against a cart holding `in_cart` (product id -> quantity).

    PricingUnavailable if the catalogue or inventory cannot answer.
    """
    found, available = await asyncio.gather(
        catalogue(services, list(dict.fromkeys([product_id, *in_cart]))),
        _available(services, product_id),
    )
    product = found.get(product_id)
    if product is None:
        return product_not_found(product_id)
    others = {p.currency_code for pid, p in found.items() if pid != product_id}
    if others and product.currency_code not in others:
        return _currency_mismatch(product, sorted(others)[0])
    others_subtotal = sum(
        (
            PricedLine(found[pid], quantity).line_total
            for pid, quantity in in_cart.items()
            if pid != product_id and pid in found
        ),
        Decimal(0),
    )
    return LineCheck(product, available, in_cart.get(product_id, 0), others_subtotal)


async def check_product(
    services: OrdersServices, product_id: str, in_cart: Mapping[str, int]
) -> LineCheck | UserError:
    """Check `product_id`'s line in a cart holding `in_cart`, its quantity being set (not
    added to): the other lines count for the cart's money."""
    others = {pid: quantity for pid, quantity in in_cart.items() if pid != product_id}
    return await check_addition(services, product_id, others)


def _line_index(error: Mapping[str, object], lines: Sequence[PricedLine]) -> int | None:
    # inventory reports ["input", "lines", <index>, "quantity"], in the order it was sent
    field = error.get("field")
    if not isinstance(field, list) or len(field) < 3:
        return None
    try:
        index = int(field[2])
    except (TypeError, ValueError):
        return None
    return index if 0 <= index < len(lines) else None


def _checkout_stock_error(line: PricedLine, available: int | None) -> UserError:
    name, wanted = line.product.name, line.quantity
    if available is None:
        message = f"Not enough {name} is available for the {wanted} in your cart"
    elif available <= 0:
        message = f"{name} is out of stock; your cart has {wanted}"
    else:
        message = f"Only {_units_of(available, name)} available; your cart has {wanted}"
    # The cart is not checkout's input: no input path is at fault (see UserError.field).
    return user_error(UserErrorCode.INSUFFICIENT_STOCK, message)


async def reservation_errors(
    services: OrdersServices,
    errors: Sequence[Mapping[str, object]],
    lines: Sequence[PricedLine],
) -> list[UserError]:
    """inventory's refusal to reserve `lines`, as userErrors naming the products."""
    indexes = [_line_index(error, lines) for error in errors]
    short = [lines[i].product.id for i in indexes if i is not None]
    try:
        levels: dict[str, int] = await services.inventory.available(short)
    except UpstreamError:  # the counts only make the message better
        levels = {}
    result = []
    for error, index in zip(errors, indexes, strict=True):
        code = str(error.get("code"))
        if index is not None and code == UserErrorCode.INSUFFICIENT_STOCK.value:
            line = lines[index]
            result.append(_checkout_stock_error(line, levels.get(line.product.id)))
        else:
            known = code in UserErrorCode.__members__
            result.append(
                user_error(
                    UserErrorCode(code) if known else UserErrorCode.INVALID_INPUT,
                    str(error.get("message")),
                )
            )
    return result
