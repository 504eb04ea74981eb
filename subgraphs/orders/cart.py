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
from .services import OrdersServices

MAX_LINE_QUANTITY = 1000


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


def quantity_errors(quantity: int) -> list[UserError]:
    if 0 < quantity <= MAX_LINE_QUANTITY:
        return []
    return [
        user_error(
            UserErrorCode.INVALID_QUANTITY,
            f"quantity must be between 1 and {MAX_LINE_QUANTITY}",
            "input",
            "quantity",
        )
    ]


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
    errors = quantity_errors(quantity)
    product_id = parse_uuid(product)
    if product_id is not None and not errors:
        try:
            known = await services.catalog.products([str(product_id)])
        except UpstreamError:
            return [
                user_error(
                    UserErrorCode.SERVICE_UNAVAILABLE, "The catalogue is unavailable; try again"
                )
            ]
        if str(product_id) not in known:
            product_id = None
    if product_id is None:
        errors.insert(
            0,
            user_error(
                UserErrorCode.PRODUCT_NOT_FOUND,
                f"No product with id {echo(product)}",
                "input",
                "productId",
            ),
        )
    if errors:
        return errors
    async with db.session() as session, session.begin():
        await _touch(session, user_id)
        new_quantity = await session.scalar(
            insert(CartLineRow)
            .values(user_id=user_id, product_id=product_id, quantity=quantity)
            .on_conflict_do_update(
                index_elements=[CartLineRow.user_id, CartLineRow.product_id],
                set_={"quantity": CartLineRow.quantity + quantity},
                where=CartLineRow.quantity + quantity <= MAX_LINE_QUANTITY,
            )
            .returning(CartLineRow.quantity)
        )
    if new_quantity is None:
        return quantity_errors(MAX_LINE_QUANTITY + 1)
    return []


async def update_cart_line(
    db: Database, user_id: uuid.UUID, product: str, quantity: int
) -> list[UserError]:
    errors = quantity_errors(quantity)
    if errors:
        return errors
    product_id = parse_uuid(product)
    async with db.session() as session, session.begin():
        changed = None
        if product_id is not None:
            changed = await session.scalar(
                update(CartLineRow)
                .where(CartLineRow.user_id == user_id, CartLineRow.product_id == product_id)
                .values(quantity=quantity)
                .returning(CartLineRow.product_id)
            )
        if changed is None:
            return [_not_in_cart(product)]
        await _touch(session, user_id)
    return []


async def remove_from_cart(db: Database, user_id: uuid.UUID, product: str) -> list[UserError]:
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
            return [_not_in_cart(product)]
        await _touch(session, user_id)
    return []


def _not_in_cart(product: str) -> UserError:
    return user_error(
        UserErrorCode.NOT_IN_CART,
        f"Product {echo(product)} is not in the cart",
        "input",
        "productId",
    )
