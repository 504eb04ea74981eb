"""The per-user cart: one line per product."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.database import Database
from subgraphs.common.ids import parse_uuid
from subgraphs.common.types import UserError, UserErrorCode, echo, user_error

from .clients import UpstreamError
from .models import CartLineRow, CartRow
from .pricing import MAX_CART_LINES, PricingUnavailable
from .services import OrdersServices
from .stock_check import (
    MAX_LINE_QUANTITY,
    check_addition,
    check_product,
    invalid_quantity,
    product_not_found,
)


@dataclass(frozen=True)
class CartLine:
    product_id: uuid.UUID
    quantity: int
    added_at: datetime


@dataclass(frozen=True)
class CartState:
    user_id: uuid.UUID
    lines: tuple[CartLine, ...]
    updated_at: datetime | None


def quantity_errors(quantity: int, lowest: int = 1) -> list[UserError]:
    """INVALID_QUANTITY unless `lowest` <= quantity <= MAX_LINE_QUANTITY."""
    if lowest <= quantity <= MAX_LINE_QUANTITY:
        return []
    return [invalid_quantity(lowest)]


async def read_cart(session: AsyncSession, user_id: uuid.UUID) -> CartState:
    updated_at = await session.scalar(select(CartRow.updated_at).where(CartRow.user_id == user_id))
    rows = (
        await session.scalars(
            select(CartLineRow)
            .where(CartLineRow.user_id == user_id)
            .order_by(CartLineRow.added_at, CartLineRow.product_id)
        )
    ).all()
    lines = tuple(CartLine(r.product_id, r.quantity, r.added_at) for r in rows)
    return CartState(user_id, lines, updated_at)


async def load_cart(db: Database, user_id: uuid.UUID) -> CartState:
    async with db.session() as session:
        return await read_cart(session, user_id)


async def _touch(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(
        insert(CartRow)
        .values(user_id=user_id)
        .on_conflict_do_update(index_elements=[CartRow.user_id], set_={"updated_at": func.now()})
    )


async def lock_cart(session: AsyncSession, user_id: uuid.UUID, *, make: bool = True) -> None:
    """Lock the user's cart row (made if missing, unless `make` is False) until the
    transaction ends.

    Every cart write (addToCart, updateCartLine, removeFromCart, checkout) takes it
    first, so one user's cart writes run one at a time and each sees the previous one:
    two concurrent adds in different currencies cannot both pass the currency check, and
    no two writes take the cart row and a line row in opposite orders (a deadlock).
    """
    if make:
        await session.execute(insert(CartRow).values(user_id=user_id).on_conflict_do_nothing())
    await session.execute(
        select(CartRow.user_id).where(CartRow.user_id == user_id).with_for_update()
    )


class _Refused(Exception):
    """Leaves a locked cart transaction unchanged (rolled back) with the reason."""

    def __init__(self, error: UserError) -> None:
        super().__init__(error.message)
        self.error = error


def cart_full() -> UserError:
    """CART_FULL on the input's productId: a new line past MAX_CART_LINES."""
    message = (
        f"Your cart already holds {MAX_CART_LINES} different products, the most one order "
        "can; remove one first"
    )
    return user_error(UserErrorCode.CART_FULL, message, "input", "productId")


async def add_to_cart(
    db: Database, services: OrdersServices, user_id: uuid.UUID, product: str, quantity: int
) -> list[UserError]:
    """Add `quantity` units (to the product's line if there is one), or say why not.

    The product must exist, be priced in the cart's currency and have the line's
    new quantity available; a new line needs room (MAX_CART_LINES) and the cart
    must stay within what an order can hold (MAX_ORDER_AMOUNT).
    """
    errors = quantity_errors(quantity)
    product_id = parse_uuid(product)
    if product_id is None:
        return [product_not_found(product), *errors]
    if errors:
        return errors
    try:
        async with db.session() as session, session.begin():
            await lock_cart(session, user_id)
            in_cart = _quantities(await read_cart(session, user_id))
            await _check_line(services, in_cart, str(product_id), quantity, adding=True)
            await _add_units(session, user_id, product_id, quantity)
    except _Refused as refused:
        return [refused.error]
    return []


def _quantities(cart: CartState) -> dict[str, int]:
    return {str(line.product_id): line.quantity for line in cart.lines}


async def _check_line(
    services: OrdersServices,
    in_cart: dict[str, int],
    product_id: str,
    quantity: int,
    *,
    adding: bool,
) -> None:
    """_Refused unless the product's line in the cart `in_cart` may take `quantity` more
    units (`adding`) or hold `quantity` units (its quantity being set)."""
    if adding and product_id not in in_cart and len(in_cart) >= MAX_CART_LINES:
        raise _Refused(cart_full())
    try:
        if adding:
            checked = await check_addition(services, product_id, in_cart)
        else:
            checked = await check_product(services, product_id, in_cart)
    except PricingUnavailable as exc:
        raise _Refused(_unavailable(exc.what)) from exc
    if isinstance(checked, UserError):
        raise _Refused(checked)
    refusal = checked.refusal(in_cart.get(product_id, 0) + quantity if adding else quantity)
    if refusal is not None:
        raise _Refused(refusal)


async def _add_units(
    session: AsyncSession, user_id: uuid.UUID, product_id: uuid.UUID, quantity: int
) -> None:
    """Add `quantity` to the product's line (made if missing), in the locked cart."""
    await _touch(session, user_id)
    await session.execute(
        insert(CartLineRow)
        .values(user_id=user_id, product_id=product_id, quantity=quantity)
        .on_conflict_do_update(
            index_elements=[CartLineRow.user_id, CartLineRow.product_id],
            set_={"quantity": CartLineRow.quantity + quantity},
        )
    )


async def update_cart_line(
    db: Database, services: OrdersServices, user_id: uuid.UUID, product: str, quantity: int
) -> list[UserError]:
    """Set a line's quantity (0 removes the line), or say why not."""
    errors = quantity_errors(quantity, lowest=0)
    if errors:
        return errors
    if quantity == 0:
        return await remove_from_cart(db, services, user_id, product)
    product_id = parse_uuid(product)
    try:
        async with db.session() as session, session.begin():
            await lock_cart(session, user_id)
            in_cart = _quantities(await read_cart(session, user_id))
            if product_id is None or str(product_id) not in in_cart:
                raise _Refused(await _not_in_cart(services, product))
            await _check_line(services, in_cart, str(product_id), quantity, adding=False)
            await session.execute(
                update(CartLineRow)
                .where(CartLineRow.user_id == user_id, CartLineRow.product_id == product_id)
                .values(quantity=quantity)
            )
            await _touch(session, user_id)
    except _Refused as refused:
        return [refused.error]
    return []


async def remove_from_cart(
    db: Database, services: OrdersServices, user_id: uuid.UUID, product: str
) -> list[UserError]:
    """Remove the product's line, or NOT_IN_CART if the cart has none."""
    product_id = parse_uuid(product)
    async with db.session() as session, session.begin():
        # without a cart row there is no line to remove: nothing to make
        await lock_cart(session, user_id, make=False)
        removed = None
        if product_id is not None:
            removed = await session.scalar(
                delete(CartLineRow)
                .where(CartLineRow.user_id == user_id, CartLineRow.product_id == product_id)
                .returning(CartLineRow.product_id)
            )
        if removed is None:
            return [await _not_in_cart(services, product)]
        await _touch(session, user_id)
    return []


def _unavailable(what: str) -> UserError:
    return user_error(UserErrorCode.SERVICE_UNAVAILABLE, f"{what} is unavailable; try again")


async def _not_in_cart(services: OrdersServices, product: str) -> UserError:
    """NOT_IN_CART on the input's productId, naming the product as the customer sees it
    (by the id given only if the catalogue does not know it or cannot be asked)."""
    name = await _catalogue_name(services, product)
    label = f"Product {echo(product)}" if name is None else name
    return user_error(
        UserErrorCode.NOT_IN_CART, f"{label} is not in the cart", "input", "productId"
    )


async def _catalogue_name(services: OrdersServices, product: str) -> str | None:
    """The product's name in the catalogue; None if it is not there or cannot be asked."""
    product_id = parse_uuid(product)
    if product_id is None:
        return None
    try:
        found = await services.catalog.products([str(product_id)])
    except UpstreamError:  # the name only makes the message better
        return None
    entry = found.get(str(product_id))
    return None if entry is None else entry.name
