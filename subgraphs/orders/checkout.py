"""Checkout: cart -> reserved stock -> order, all or nothing.

The new order's OrderPlaced event is written in the same transaction as the
order. The user's cart row is locked for the whole checkout, so one user's checkouts
run one at a time and a repeated idempotency key sees the first order. Stock
is reserved in inventory over HTTP under the new order's id; if anything
after that fails (the call itself, a timeout, our own commit), the
reservation is released again. Release is idempotent and, for an id inventory
has not seen yet, leaves a tombstone so a late-arriving reserve holds nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.database import Database
from subgraphs.common.idempotency import clean_idempotency_key
from subgraphs.common.types import UserError, UserErrorCode, user_error

from .cart import CartState, lock_cart, read_cart
from .clients import UpstreamError
from .models import (
    PENDING_PAYMENT,
    CartLineRow,
    OrderLineRow,
    OrderPromotionRow,
    OrderRow,
)
from .order_events import publish_order_placed
from .price_changes import NOTHING_EXPECTED, Expected, price_changes
from .pricing import (
    CartTooLarge,
    MixedCurrencies,
    PricedCart,
    PricingUnavailable,
    price_lines,
)
from .services import OrdersServices
from .stock_check import reservation_errors

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
    db: Database,
    services: OrdersServices,
    user_id: uuid.UUID,
    idempotency_key: str,
    expected: Expected = NOTHING_EXPECTED,
) -> CheckoutResult:
    """The user's cart as a PENDING_PAYMENT order with its stock reserved, or why not.

    All or nothing: a reservation made for an order that is not written is released.
    """
    key, problem = clean_idempotency_key(idempotency_key)
    if problem is not None:
        return _fail(problem)
    request = _Request(user_id, key, expected)
    order_id = uuid.uuid4()
    reservation = _Reservation()
    try:
        async with db.session() as session, session.begin():
            return await _checkout_locked(session, services, request, order_id, reservation)
    except BaseException:
        # whatever failed after the reserve call (the call, a cancel, our own commit)
        if reservation.maybe_held:
            await _compensate(services, order_id)
        raise


@dataclass(frozen=True)
class _Request:
    """One checkout request: who, under which key, expecting what."""

    user_id: uuid.UUID
    key: str
    expected: Expected

    @property
    def fingerprint(self) -> str:
        """The input the key is bound to besides itself (equal amounts hash alike)."""
        total = self.expected.total
        text = "none" if total is None else f"{total.amount.normalize()} {total.currency}"
        text = f"expectedTotal={text}"
        # Without a digest the text is as it was before digests: older orders' keys still match.
        if self.expected.digest is not None:
            text += f" expectedPriceDigest={self.expected.digest}"
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class _Reservation:
    """Whether inventory may hold stock for the order being checked out."""

    maybe_held: bool = False


async def _checkout_locked(
    session: AsyncSession,
    services: OrdersServices,
    request: _Request,
    order_id: uuid.UUID,
    reservation: _Reservation,
) -> CheckoutResult:
    """The checkout inside its transaction, with the user's cart locked first."""
    await lock_cart(session, request.user_id)
    previous = await _previous_order(session, request)
    if previous is not None:
        return previous
    priced = await _sellable(session, services, request)
    if isinstance(priced, CheckoutResult):
        return priced
    refused = await _reserve(services, order_id, priced, reservation)
    if refused is not None:
        return refused
    await _write_order(session, services, request, order_id, priced)
    return CheckoutResult(order_id)


async def _previous_order(session: AsyncSession, request: _Request) -> CheckoutResult | None:
    """The order this key already made (None if none); a different input is refused."""
    previous = (
        await session.execute(
            select(OrderRow.id, OrderRow.checkout_fingerprint).where(
                OrderRow.user_id == request.user_id, OrderRow.idempotency_key == request.key
            )
        )
    ).one_or_none()
    if previous is None:
        return None
    order_id, fingerprint = previous
    if fingerprint is not None and fingerprint != request.fingerprint:
        return _fail(
            user_error(
                UserErrorCode.IDEMPOTENCY_KEY_REUSED,
                "This idempotencyKey was used for a checkout with a different expectedTotal "
                "or expectedPriceDigest; use a new key",
                "input",
                "idempotencyKey",
            )
        )
    return CheckoutResult(order_id)


def _cart_problem(code: UserErrorCode, message: str) -> UserError:
    # The cart is not checkout's input: no input path is at fault (see UserError.field).
    return user_error(code, message)


async def _sellable(
    session: AsyncSession, services: OrdersServices, request: _Request
) -> PricedCart | CheckoutResult:
    """The user's cart priced now as the customer was shown it, or why it cannot be sold.

    Lines whose product left the catalogue are not shown in the cart: they are dropped
    here, in the checkout's transaction, and the rest is sold.
    """
    cart = await read_cart(session, request.user_id)
    priced = await _priced(services, cart) if cart.lines else None
    if isinstance(priced, CheckoutResult):
        return priced
    if priced is not None and priced.missing:
        await _drop_lines(session, request.user_id, priced.missing)
    if priced is None or not priced.lines:
        return _fail(user_error(UserErrorCode.CART_EMPTY, "The cart is empty"))
    changed = price_changes(request.expected, priced)
    return _fail(*changed) if changed else priced


async def _priced(services: OrdersServices, cart: CartState) -> PricedCart | CheckoutResult:
    """The cart re-priced now, or why it cannot be: a service down, mixed currencies, or
    more than an order can hold (a price raised since the products were added)."""
    try:
        return await price_lines(services, [(str(ln.product_id), ln.quantity) for ln in cart.lines])
    except PricingUnavailable as exc:
        logger.warning("checkout could not be priced: %s", exc.__cause__ or exc)
        return _unavailable(exc.what)
    except MixedCurrencies as exc:
        message = f"{exc}; remove the products in the other currency"
        return _fail(_cart_problem(UserErrorCode.CURRENCY_MISMATCH, message))
    except CartTooLarge as exc:
        return _fail(_cart_problem(UserErrorCode.CART_FULL, str(exc)))


async def _drop_lines(
    session: AsyncSession, user_id: uuid.UUID, product_ids: Sequence[str]
) -> None:
    """Remove the user's cart lines of `product_ids` (products no longer in the catalogue)."""
    gone = [uuid.UUID(product_id) for product_id in product_ids]
    await session.execute(
        delete(CartLineRow).where(CartLineRow.user_id == user_id, CartLineRow.product_id.in_(gone))
    )


async def _reserve(
    services: OrdersServices, order_id: uuid.UUID, priced: PricedCart, reservation: _Reservation
) -> CheckoutResult | None:
    """Reserve the lines in inventory under the order's id; None once they are held."""
    reservation.maybe_held = True  # from the call on, inventory's answer may be "reserved"
    lines = [(line.product.id, line.quantity) for line in priced.lines]
    try:
        outcome = await services.inventory.reserve(order_id, lines, services.reservation_ttl)
    except UpstreamError:
        logger.exception("reserve failed for checkout %s", order_id)
        await _compensate(services, order_id)
        reservation.maybe_held = False
        return _unavailable("Inventory")
    if not outcome.ok:
        reservation.maybe_held = False  # inventory rolled back: nothing is held
        return _fail(*await reservation_errors(services, outcome.errors, priced.lines))
    return None


async def _write_order(
    session: AsyncSession,
    services: OrdersServices,
    request: _Request,
    order_id: uuid.UUID,
    priced: PricedCart,
) -> None:
    """Add the order with its figures frozen as priced, its lines and promotions; empty
    the cart; publish OrderPlaced."""
    order = OrderRow(
        id=order_id,
        user_id=request.user_id,
        status=PENDING_PAYMENT,
        currency_code=priced.currency,
        subtotal=priced.subtotal,
        discount_total=priced.discount_total,
        total=priced.total,
        idempotency_key=request.key,
        checkout_fingerprint=request.fingerprint,
        expires_at=func.now() + services.reservation_ttl,
    )
    session.add(order)
    await session.flush()  # the order row first: lines and promotions reference it
    details = _order_details(order_id, priced)
    session.add_all(details)
    await session.execute(delete(CartLineRow).where(CartLineRow.user_id == request.user_id))
    lines = [row for row in details if isinstance(row, OrderLineRow)]
    await publish_order_placed(session, order, lines)


def _order_details(
    order_id: uuid.UUID, priced: PricedCart
) -> list[OrderLineRow | OrderPromotionRow]:
    """The order's lines and applied promotions, as priced: a snapshot of the catalogue."""
    lines = [
        OrderLineRow(
            order_id=order_id,
            line_number=number,
            product_id=uuid.UUID(line.product.id),
            sku=line.product.sku,
            name=line.product.name,
            quantity=line.quantity,
            unit_price=line.unit_price,
        )
        for number, line in enumerate(priced.lines, start=1)
    ]
    promotions = [
        OrderPromotionRow(
            order_id=order_id,
            position=position,
            code=discount.code,
            description=discount.description,
            amount=discount.amount,
        )
        for position, discount in enumerate(priced.discounts, start=1)
    ]
    return [*lines, *promotions]


async def _compensate(services: OrdersServices, order_id: uuid.UUID) -> None:
    # Shielded: a client disconnect cancelling the request must not skip the release.
    await asyncio.shield(release_quietly(services, order_id))
