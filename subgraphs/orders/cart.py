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
from .pricing import PricingUnavailable
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


async def add_to_cart(
    db: Database, services: OrdersServices, user_id: uuid.UUID, product: str, quantity: int
) -> list[UserError]:
    """Add `quantity` units (to the product's line if there is one), or say why not.

    The product must exist, be priced in the cart's currency and have the line's
    new quantity available.
    """
    errors = quantity_errors(quantity)
    product_id = parse_uuid(product)
    if product_id is None:
        return [product_not_found(product), *errors]
    if errors:
        return errors
    cart = await load_cart(db, user_id)
    in_cart = {str(line.product_id): line.quantity for line in cart.lines}
    try:
        checked = await check_addition(services, str(product_id), in_cart)
    except PricingUnavailable as exc:
        return [_unavailable(exc.what)]
    if isinstance(checked, UserError):
        return [checked]
    refusal = checked.refusal(in_cart.get(str(product_id), 0) + quantity)
    if refusal is not None:
        return [refusal]
    if not await _add_units(db, user_id, product_id, quantity, checked.limit):
        # another request grew the line meanwhile
        return [checked.refusal(checked.limit + 1) or product_not_found(product)]
    return []


async def _add_units(
    db: Database, user_id: uuid.UUID, product_id: uuid.UUID, quantity: int, limit: int
) -> bool:
    """Add `quantity` to the product's line unless it would then hold more than `limit`."""
    async with db.session() as session, session.begin():
        await _touch(session, user_id)
        new_quantity = await session.scalar(
            insert(CartLineRow)
            .values(user_id=user_id, product_id=product_id, quantity=quantity)
            .on_conflict_do_update(
                index_elements=[CartLineRow.user_id, CartLineRow.product_id],
                set_={"quantity": CartLineRow.quantity + quantity},
                where=CartLineRow.quantity + quantity <= limit,
            )
            .returning(CartLineRow.quantity)
        )
    return new_quantity is not None


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
    cart = await load_cart(db, user_id)
    if product_id is None or all(line.product_id != product_id for line in cart.lines):
        return [await _not_in_cart(services, product)]
    try:
        checked = await check_product(services, str(product_id))
    except PricingUnavailable as exc:
        return [_unavailable(exc.what)]
    if isinstance(checked, UserError):
        return [checked]
    refusal = checked.refusal(quantity)
    if refusal is not None:
        return [refusal]
    async with db.session() as session, session.begin():
        changed = await session.scalar(
            update(CartLineRow)
            .where(CartLineRow.user_id == user_id, CartLineRow.product_id == product_id)
            .values(quantity=quantity)
            .returning(CartLineRow.product_id)
        )
        if changed is None:  # removed by another request meanwhile
            return [await _not_in_cart(services, product)]
        await _touch(session, user_id)
    return []


async def remove_from_cart(
    db: Database, services: OrdersServices, user_id: uuid.UUID, product: str
) -> list[UserError]:
    """Remove the product's line, or NOT_IN_CART if the cart has none."""
    product_id = parse_uuid(product)
    async with db.session() as session, session.begin():
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
