"""Checkout: cart -> reserved stock -> order, all or nothing.

The user's cart row is locked for the whole checkout, so one user's checkouts
run one at a time and a repeated idempotency key sees the first order. Stock
is reserved in inventory over HTTP under the new order's id; if anything
after that fails (the call itself, a timeout, our own commit), the
reservation is released again. Release is idempotent and, for an id inventory
has not seen yet, leaves a tombstone so a late-arriving reserve holds nothing.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.database import Database
from subgraphs.common.idempotency import clean_idempotency_key
from subgraphs.common.types import CENTS, UserError, UserErrorCode, user_error

from .cart import CartState, read_cart
from .clients import CatalogProduct, UpstreamError
from .models import PENDING_PAYMENT, CartLineRow, CartRow, OrderLineRow, OrderRow
from .services import OrdersServices

logger = logging.getLogger("shopgraph.orders.checkout")


@dataclass(frozen=True)
class CheckoutResult:
    """The order made (or found again by its key), or the errors that stopped it."""

    order_id: uuid.UUID | None
    errors: tuple[UserError, ...] = ()


def _fail(*errors: UserError) -> CheckoutResult:
    return CheckoutResult(None, errors)


def _unavailable(what: str) -> CheckoutResult:
    return _fail(
        user_error(
            UserErrorCode.SERVICE_UNAVAILABLE,
            f"{what} is unavailable; nothing was charged or reserved, retry with the same key",
        )
    )


async def release_quietly(services: OrdersServices, reservation_id: uuid.UUID) -> None:
    """Compensation: give reserved units back; inventory's expiry is the backstop."""
    try:
        outcome = await services.inventory.release(reservation_id)
        if not outcome.ok:
            logger.error("release of %s rejected: %s", reservation_id, outcome.errors)
    except UpstreamError:
        logger.exception("could not release reservation %s; it will expire", reservation_id)


async def checkout(
    db: Database, services: OrdersServices, user_id: uuid.UUID, idempotency_key: str
) -> CheckoutResult:
    """The user's cart as a PENDING_PAYMENT order with its stock reserved, or why not.

    All or nothing: a reservation made for an order that is not written is released.
    """
    key, problem = clean_idempotency_key(idempotency_key)
    if problem is not None:
        return _fail(problem)
    order_id = uuid.uuid4()
    reservation = _Reservation()
    try:
        async with db.session() as session, session.begin():
            return await _checkout_locked(session, services, user_id, key, order_id, reservation)
    except BaseException:
        # whatever failed after the reserve call (the call, a cancel, our own commit)
        if reservation.maybe_held:
            await _compensate(services, order_id)
        raise


@dataclass
class _Reservation:
    """Whether inventory may hold stock for the order being checked out."""

    maybe_held: bool = False


async def _checkout_locked(
    session: AsyncSession,
    services: OrdersServices,
    user_id: uuid.UUID,
    key: str,
    order_id: uuid.UUID,
    reservation: _Reservation,
) -> CheckoutResult:
    """The checkout inside its transaction, with the user's cart locked first."""
    await _lock_cart(session, user_id)
    previous = await session.scalar(
        select(OrderRow.id).where(OrderRow.user_id == user_id, OrderRow.idempotency_key == key)
    )
    if previous is not None:
        return CheckoutResult(previous)
    cart = await read_cart(session, user_id)
    if not cart.lines:
        return _fail(user_error(UserErrorCode.CART_EMPTY, "The cart is empty"))
    priced = await _priced(services, cart)
    if isinstance(priced, CheckoutResult):
        return priced
    refused = await _reserve(services, order_id, priced, reservation)
    if refused is not None:
        return refused
    await _write_order(session, services, user_id, key, order_id, priced)
    return CheckoutResult(order_id)


async def _lock_cart(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Lock the user's cart row (made if missing): one checkout per user at a time."""
    await session.execute(insert(CartRow).values(user_id=user_id).on_conflict_do_nothing())
    await session.execute(
        select(CartRow.user_id).where(CartRow.user_id == user_id).with_for_update()
    )


@dataclass(frozen=True)
class _Priced:
    """The cart's lines, (product id, quantity) in cart order, with the catalogue's products."""

    lines: tuple[tuple[str, int], ...]
    catalog: dict[str, CatalogProduct]
    currency: str

    @property
    def product_ids(self) -> list[str]:
        """The products in cart order, as inventory's errors index them."""
        return [pid for pid, _ in self.lines]


async def _priced(services: OrdersServices, cart: CartState) -> _Priced | CheckoutResult:
    """The cart priced by the catalogue, or why it cannot be: gone products, mixed currencies."""
    product_ids = [str(line.product_id) for line in cart.lines]
    try:
        catalog = await services.catalog.products(product_ids)
    except UpstreamError:
        logger.exception("catalogue lookup failed during checkout")
        return _unavailable("The catalogue")
    missing = [
        user_error(
            UserErrorCode.PRODUCT_NOT_FOUND,
            f"Product {pid} no longer exists; remove it from the cart",
            "cart",
            "lines",
            str(index),
        )
        for index, pid in enumerate(product_ids)
        if pid not in catalog
    ]
    if missing:
        return _fail(*missing)
    currencies = {catalog[pid].currency_code for pid in product_ids}
    if len(currencies) != 1:
        return _fail(user_error(UserErrorCode.INVALID_INPUT, "The cart mixes currencies"))
    lines = tuple((pid, line.quantity) for pid, line in zip(product_ids, cart.lines, strict=True))
    return _Priced(lines, catalog, currencies.pop())


async def _reserve(
    services: OrdersServices, order_id: uuid.UUID, priced: _Priced, reservation: _Reservation
) -> CheckoutResult | None:
    """Reserve the lines in inventory under the order's id; None once they are held."""
    reservation.maybe_held = True  # from the call on, inventory's answer may be "reserved"
    try:
        outcome = await services.inventory.reserve(
            order_id, list(priced.lines), services.reservation_ttl
        )
    except UpstreamError:
        logger.exception("reserve failed for checkout %s", order_id)
        await _compensate(services, order_id)
        reservation.maybe_held = False
        return _unavailable("Inventory")
    if not outcome.ok:
        reservation.maybe_held = False  # inventory rolled back: nothing is held
        return _fail(*_stock_errors(outcome.errors, priced.product_ids))
    return None


async def _write_order(
    session: AsyncSession,
    services: OrdersServices,
    user_id: uuid.UUID,
    key: str,
    order_id: uuid.UUID,
    priced: _Priced,
) -> None:
    """Add the order and its lines at the catalogue's prices, and empty the cart."""
    catalog = priced.catalog
    subtotal = sum(
        (catalog[pid].price * quantity for pid, quantity in priced.lines), Decimal(0)
    ).quantize(CENTS)
    session.add(
        OrderRow(
            id=order_id,
            user_id=user_id,
            status=PENDING_PAYMENT,
            currency_code=priced.currency,
            subtotal=subtotal,
            total=subtotal,
            idempotency_key=key,
            expires_at=func.now() + services.reservation_ttl,
        )
    )
    await session.flush()  # the order row first: lines reference it
    session.add_all(
        OrderLineRow(
            order_id=order_id,
            line_number=number,
            product_id=uuid.UUID(pid),
            sku=catalog[pid].sku,
            name=catalog[pid].name,
            quantity=quantity,
            unit_price=catalog[pid].price,
        )
        for number, (pid, quantity) in enumerate(priced.lines, start=1)
    )
    await session.execute(delete(CartLineRow).where(CartLineRow.user_id == user_id))


async def _compensate(services: OrdersServices, order_id: uuid.UUID) -> None:
    # Shielded: a client disconnect cancelling the request must not skip the release.
    await asyncio.shield(release_quietly(services, order_id))


def _stock_errors(errors: tuple[dict[str, object], ...], product_ids: list[str]) -> list[UserError]:
    result = []
    for error in errors:
        field = error.get("field") or []
        assert isinstance(field, list)
        # inventory reports ["input", "lines", <index>, "quantity"]: same order as the cart
        index = field[2] if len(field) > 2 else None
        code = error.get("code")
        result.append(
            user_error(
                UserErrorCode(code)
                if code in UserErrorCode.__members__
                else UserErrorCode.INVALID_INPUT,
                str(error.get("message")),
                *(("cart", "lines", str(index), "quantity") if index is not None else ()),
            )
        )
    return result
