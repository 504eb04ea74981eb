"""Paying an order without a lock or a transaction open across network calls.

`pay` has three steps:

1. Claim, in one short transaction. A conditional UPDATE puts a fresh claim
   token, the caller's idempotency key and the time on the order, only while
   it is PENDING_PAYMENT, unexpired and unclaimed, so exactly one concurrent
   caller wins. The others poll (holding no connection between polls) until
   the claim is gone, then answer as if they had run after the winner: the
   same key replays the recorded result, another key sees the new state.
2. Charge the provider, then commit the stock in inventory, with no
   transaction and no pooled connection held, each call under a timeout.
   The commit carries the claim token as its attempt id. If its answer does
   not come, inventory is told to abandon that attempt: from then on it can
   no longer land, and the answer says whether it already had (the sale
   stands) or not (the charge is refunded, the units stay held for the still
   payable order). A refund without that fence would let a late commit sell
   the units of an order that stays unpaid.
3. Record the outcome in one short transaction, only if our claim token is
   still on the order; that clears the claim.

The order's status stays PENDING_PAYMENT while claimed, so the API does not
change; the expiry sweep skips claimed orders and cancelling waits for them.

When the outcome cannot be established (the provider lookup, a refund or
the abandon call fails or times out, the process dies mid-payment) the claim
stays, and
`recover_stale_claims` settles it once it is older than `payment_claim_ttl`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.auth import Viewer
from subgraphs.common.database import Database
from subgraphs.common.errors import Forbidden
from subgraphs.common.idempotency import clean_idempotency_key
from subgraphs.common.types import UserError, UserErrorCode, user_error

from .checkout import release_quietly
from .clients import UpstreamError
from .lifecycle import EXPIRED, ClaimWait, OrderResult, order_not_found
from .models import (
    CANCELLED,
    CAPTURED,
    DECLINED,
    PAID,
    PENDING_PAYMENT,
    REFUNDED,
    OrderRow,
    PaymentRow,
)
from .payment_keys import lock_owner_keys, other_token, token_hash, used_for_another_order
from .payments import Charge, PaymentProviderError
from .services import OrdersServices

logger = logging.getLogger("shopgraph.orders.paying")

RECOVER_BATCH = 20
PAYMENTS_UNAVAILABLE = (
    "Payments are unavailable; nothing was charged, retry with the same idempotencyKey"
)

T = TypeVar("T")

# Settling tasks outlive a cancelled request (see `pay`); keep them referenced.
_settling: set[asyncio.Task[OrderResult]] = set()


@dataclass(frozen=True)
class Claim:
    order_id: uuid.UUID
    token: uuid.UUID
    key: str
    amount: Decimal
    currency: str
    token_hash: str | None = None  # of the payment token (None: a claim made before 0003)

    @property
    def provider_key(self) -> str:
        return f"{self.order_id}:{self.key}"


@dataclass(frozen=True)
class Outcome:
    """What a settled payment writes: a payments row (unless nothing was charged) and the order."""

    payment_status: str | None
    reference: str | None = None
    paid: bool = False
    expired: bool = False  # inventory no longer holds the stock: the order is cancelled

    @property
    def errors(self) -> tuple[UserError, ...]:
        if self.paid:
            return ()
        if self.expired:
            return (_expired(),)
        if self.payment_status is None:
            # Nothing was charged or recorded: the key is still free for this order.
            return (user_error(UserErrorCode.SERVICE_UNAVAILABLE, PAYMENTS_UNAVAILABLE),)
        return _replayed_errors(self.payment_status)


NOTHING_CHARGED = Outcome(None)


class Unsettled(Exception):
    """The payment's outcome could not be established; the claim stays for the sweep."""


@dataclass(frozen=True)
class Answer:
    """The caller does not charge: this is its result."""

    result: OrderResult
    release_stock: bool = False


OnInventoryError = Callable[[OrdersServices, Claim, Charge], Awaitable[Outcome]]


def _expired() -> UserError:
    return user_error(
        UserErrorCode.ORDER_EXPIRED, "The order expired before it was paid", "input", "orderId"
    )


def _replayed_errors(status: str) -> tuple[UserError, ...]:
    if status == CAPTURED:
        return ()
    if status == DECLINED:
        return (user_error(UserErrorCode.PAYMENT_DECLINED, "The payment was declined"),)
    return (
        user_error(
            UserErrorCode.SERVICE_UNAVAILABLE,
            "The payment was refunded because the order could not be completed; "
            "pay again with a new key",
        ),
    )


async def pay(
    db: Database,
    services: OrdersServices,
    viewer: Viewer,
    order: str,
    payment_token: str,
    idempotency_key: str,
) -> OrderResult:
    """Pay the order's total with `payment_token`, once per key (see payment_keys.py)."""
    key, problem = clean_idempotency_key(idempotency_key)
    if problem is not None:
        return OrderResult(None, (problem,))
    try:
        order_id = uuid.UUID(order)
    except ValueError:
        return order_not_found(order)
    claim_wait = ClaimWait(services.claim_wait)
    hashed = token_hash(payment_token)
    while True:
        decision = await claim(db, viewer, order_id, key, hashed)
        if isinstance(decision, Claim):
            break
        if isinstance(decision, Answer):
            if decision.release_stock:
                await release_quietly(services, order_id)
            return decision.result
        if not await claim_wait.wait():  # decision is None: someone else's claim is on it
            return _in_progress(order_id)
    # A client that hangs up must not leave the payment half done.
    task = asyncio.ensure_future(_settle(db, services, decision, payment_token))
    _settling.add(task)
    task.add_done_callback(_settling.discard)
    return await asyncio.shield(task)


def _in_progress(order_id: uuid.UUID) -> OrderResult:
    message = "A payment for this order is in progress; retry with the same key for its result"
    return OrderResult(order_id, (user_error(UserErrorCode.SERVICE_UNAVAILABLE, message),))


class _Undo(Exception):
    def __init__(self, answer: Answer) -> None:
        self.answer = answer


async def claim(
    db: Database, viewer: Viewer, order_id: uuid.UUID, key: str, hashed_token: str
) -> Claim | Answer | None:
    """Step 1: a Claim if this caller charges, an Answer if not, None while another claim is on."""
    try:
        return await _claim(db, viewer, order_id, key, hashed_token)
    except _Undo as undo:  # raised inside the transaction, so the claim is rolled back
        return undo.answer


async def _claim(
    db: Database, viewer: Viewer, order_id: uuid.UUID, key: str, hashed_token: str
) -> Claim | Answer | None:
    async with db.session() as session, session.begin():
        row = await session.get(OrderRow, order_id)
        if row is None:
            return Answer(order_not_found(str(order_id)))
        if str(row.user_id) != viewer.user_id and not viewer.is_admin:
            raise Forbidden("Not allowed to change another user's order")
        await lock_owner_keys(session, row.user_id)
        elsewhere = await used_for_another_order(session, row.user_id, order_id, key)
        if elsewhere is not None:
            return Answer(OrderResult(order_id, (elsewhere,)))
        replay = await _replay(session, order_id, key, hashed_token)
        if replay is not None:
            return replay
        if row.status != PENDING_PAYMENT:
            return Answer(_not_payable(order_id, row.status))
        if row.payment_claim is not None:
            return None
        return await _take_claim(session, order_id, key, hashed_token)


async def _take_claim(
    session: AsyncSession, order_id: uuid.UUID, key: str, hashed_token: str
) -> Claim | Answer | None:
    """Put a fresh claim on the order if it is still payable and unclaimed (None if not)."""
    token = uuid.uuid4()
    claimed = (
        await session.execute(
            update(OrderRow)
            .where(
                OrderRow.id == order_id,
                OrderRow.status == PENDING_PAYMENT,
                OrderRow.payment_claim.is_(None),
            )
            .values(
                payment_claim=token,
                payment_claim_key=key,
                payment_claimed_at=func.now(),
                payment_claim_token_hash=hashed_token,
                updated_at=func.now(),
            )
            .returning(OrderRow.total, OrderRow.currency_code, OrderRow.expires_at <= func.now())
        )
    ).one_or_none()
    if claimed is None:
        return None  # someone else changed it first: look again
    total, currency, expired = claimed
    # Our UPDATE waited for any settling transaction, so its payments row is visible now.
    replay = await _replay(session, order_id, key, hashed_token)
    if replay is not None:
        raise _Undo(replay)
    if expired:
        await _cancel_expired(session, order_id)
        return Answer(OrderResult(order_id, (_expired(),)), release_stock=True)
    return Claim(order_id, token, key, total, currency, hashed_token)


async def _cancel_expired(session: AsyncSession, order_id: uuid.UUID) -> None:
    """Cancel an order found past its expiry, clearing the claim just put on it."""
    await session.execute(
        update(OrderRow)
        .where(OrderRow.id == order_id)
        .values(
            status=CANCELLED,
            cancel_reason=EXPIRED,
            cancelled_at=func.now(),
            payment_claim=None,
            payment_claim_key=None,
            payment_claimed_at=None,
            payment_claim_token_hash=None,
        )
    )


async def _replay(
    session: AsyncSession, order_id: uuid.UUID, key: str, hashed_token: str | None
) -> Answer | None:
    """The recorded result of `key` on the order, or IDEMPOTENCY_KEY_REUSED if it was
    recorded for another payment token (None: the key has no result yet)."""
    recorded = (
        await session.execute(
            select(PaymentRow.status, PaymentRow.token_hash).where(
                PaymentRow.order_id == order_id, PaymentRow.idempotency_key == key
            )
        )
    ).one_or_none()
    if recorded is None:
        return None
    status, recorded_hash = recorded
    if None not in (hashed_token, recorded_hash) and hashed_token != recorded_hash:
        return Answer(OrderResult(order_id, (other_token(),)))
    return Answer(OrderResult(order_id, _replayed_errors(status)))


def _not_payable(order_id: uuid.UUID, status: str) -> OrderResult:
    return OrderResult(
        order_id,
        (user_error(UserErrorCode.ORDER_NOT_PAYABLE, f"Order is {status}", "input", "orderId"),),
    )


async def _settle(
    db: Database, services: OrdersServices, claim: Claim, payment_token: str
) -> OrderResult:
    """Steps 2 and 3 for the caller that holds the claim."""
    try:
        outcome = await _charge_and_commit(services, claim, payment_token)
    except Unsettled:
        logger.exception("payment for order %s is unsettled; left to the sweep", claim.order_id)
        return OrderResult(
            claim.order_id,
            (
                user_error(
                    UserErrorCode.SERVICE_UNAVAILABLE,
                    "The payment could not be confirmed yet; "
                    "retry with the same key for its result",
                ),
            ),
        )
    if not await record(db, claim, outcome):
        logger.error("payment claim on order %s was taken over; replaying", claim.order_id)
        async with db.session() as session:
            replay = await _replay(session, claim.order_id, claim.key, claim.token_hash)
        return replay.result if replay else OrderResult(claim.order_id, NOTHING_CHARGED.errors)
    if outcome.expired:
        await release_quietly(services, claim.order_id)
    return OrderResult(claim.order_id, outcome.errors)


async def _within(seconds: float, call: Awaitable[T]) -> T:
    async with asyncio.timeout(seconds):
        return await call


async def _charge_and_commit(services: OrdersServices, claim: Claim, token: str) -> Outcome:
    try:
        charge = await _within(
            services.payment_timeout,
            services.payments.charge(
                amount=claim.amount,
                currency=claim.currency,
                token=token,
                idempotency_key=claim.provider_key,
            ),
        )
    except PaymentProviderError as exc:
        # The provider's refusal is a business outcome (the customer may retry), not our bug.
        logger.warning("payment provider failed for order %s: %s", claim.order_id, exc)
        return NOTHING_CHARGED
    except TimeoutError:
        # The charge may have gone through after all: find it and give the money back,
        # since the caller is told the payment failed.
        logger.warning("payment provider timed out for order %s", claim.order_id)
        found = await _find_charge(services, claim)
        if found is None:
            return NOTHING_CHARGED
        return await _undo(services, found)
    return await _complete(services, claim, charge, on_inventory_error=_abandon_commit)


async def _find_charge(services: OrdersServices, claim: Claim) -> Charge | None:
    try:
        return await _within(
            services.payment_timeout, services.payments.find_charge(claim.provider_key)
        )
    except (PaymentProviderError, TimeoutError) as exc:
        raise Unsettled(f"cannot look up the charge for order {claim.order_id}") from exc


async def _refund(services: OrdersServices, charge: Charge) -> None:
    try:
        await _within(services.payment_timeout, services.payments.refund(charge.reference))
    except (PaymentProviderError, TimeoutError) as exc:
        raise Unsettled(f"cannot refund {charge.reference}") from exc


async def _undo(services: OrdersServices, charge: Charge) -> Outcome:
    """Give an approved charge back; the order stays payable."""
    if not charge.approved:
        return Outcome(DECLINED, charge.reference)
    if not charge.refunded:
        await _refund(services, charge)
    return Outcome(REFUNDED, charge.reference)


async def _keep_claim(services: OrdersServices, claim: Claim, charge: Charge) -> Outcome:
    raise Unsettled(f"inventory unreachable while settling {charge.reference}")


async def _abandon_commit(services: OrdersServices, claim: Claim, charge: Charge) -> Outcome:
    """The commit's answer never came: fence it off in inventory, then settle by what it did."""
    try:
        fenced = await _within(
            services.inventory_timeout,
            services.inventory.abandon_commit(claim.order_id, claim.token),
        )
    except (UpstreamError, TimeoutError) as exc:
        # The commit may still land: keep the claim, the sweep completes the order.
        raise Unsettled(f"cannot abandon the stock commit of order {claim.order_id}") from exc
    if fenced.committed:  # it landed before the fence: the customer has paid and the units are sold
        return Outcome(CAPTURED, charge.reference, paid=True)
    if fenced.held:  # it never will land: the order stays payable with its units held
        return await _undo(services, charge)
    return await _refund_expired(services, charge)


async def _refund_expired(services: OrdersServices, charge: Charge) -> Outcome:
    """Inventory no longer holds the order's stock: give the money back, the order is cancelled."""
    await _refund(services, charge)
    return Outcome(REFUNDED, charge.reference, expired=True)


async def _complete(
    services: OrdersServices,
    claim: Claim,
    charge: Charge,
    *,
    on_inventory_error: OnInventoryError,
) -> Outcome:
    """Turn a charge into PAID by committing the stock, or refund it if that fails."""
    if not charge.approved:
        return Outcome(DECLINED, charge.reference)
    if charge.refunded:
        return Outcome(REFUNDED, charge.reference)
    try:
        committed = await _within(
            services.inventory_timeout, services.inventory.commit(claim.order_id, claim.token)
        )
    except (UpstreamError, TimeoutError) as exc:
        logger.warning(
            "committing stock for order %s failed: %s", claim.order_id, exc or type(exc).__name__
        )
        return await on_inventory_error(services, claim, charge)
    if not committed.ok:  # inventory says the reservation is gone: the order cannot be paid
        return await _refund_expired(services, charge)
    return Outcome(CAPTURED, charge.reference, paid=True)


async def record(db: Database, claim: Claim, outcome: Outcome) -> bool:
    """Step 3: write `outcome` and clear the claim; False if the claim is no longer ours."""
    values: dict[str, object] = {
        "payment_claim": None,
        "payment_claim_key": None,
        "payment_claimed_at": None,
        "payment_claim_token_hash": None,
        "updated_at": func.now(),
    }
    if outcome.paid:
        values.update(status=PAID, paid_at=func.now())
    elif outcome.expired:
        values.update(status=CANCELLED, cancel_reason=EXPIRED, cancelled_at=func.now())
    async with db.session() as session, session.begin():
        ours = await session.scalar(
            update(OrderRow)
            .where(OrderRow.id == claim.order_id, OrderRow.payment_claim == claim.token)
            .values(**values)
            .returning(OrderRow.id)
        )
        if ours is None:
            return False
        if outcome.payment_status is not None:
            session.add(
                PaymentRow(
                    id=uuid.uuid4(),
                    order_id=claim.order_id,
                    idempotency_key=claim.key,
                    amount=claim.amount,
                    currency_code=claim.currency,
                    status=outcome.payment_status,
                    provider_reference=outcome.reference,
                    token_hash=claim.token_hash,
                )
            )
    return True


async def recover_stale_claims(db: Database, services: OrdersServices) -> int:
    """Settle payment claims older than `payment_claim_ttl`; returns how many were settled.

    A stale claim means the `pay` that made it died or could not establish the
    outcome. Its charge is looked up at the provider by the claim's idempotency
    key (charges are idempotent per key, so this is the charge it made, if any):

    - no charge, or a declined or refunded one: recorded as such; the order is
      payable again (and expires as usual);
    - an approved charge: the stock is committed (idempotent in inventory) and
      the order becomes PAID, which is what the customer asked for and paid;
      if inventory no longer holds the stock, the charge is refunded and the
      order cancelled as EXPIRED, as a live `pay` does.

    Completing instead of always refunding is the safer choice: a refund-only
    rule would cancel paid-for orders whose stock had already been committed.
    Anything that cannot be established now (provider or inventory unreachable)
    keeps the claim, re-stamped, for a later sweep; inventory's reservation
    expiry guarantees such an order eventually settles one way or the other.
    A live `pay` whose stock commit and the abandoning of it both went
    unanswered ends here too: its commit may have landed, so completing
    (rather than refunding) is the only outcome that is right either way.
    """
    settled = 0
    for claim in await _take_over_stale_claims(db, services):
        if await _settle_stale(db, services, claim):
            settled += 1
    return settled


async def _take_over_stale_claims(db: Database, services: OrdersServices) -> list[Claim]:
    """Re-stamp up to RECOVER_BATCH stale claims with new tokens, as claims of this sweep."""
    async with db.session() as session, session.begin():
        stale = (
            await session.execute(
                update(OrderRow)
                .where(
                    OrderRow.id.in_(
                        select(OrderRow.id)
                        .where(
                            OrderRow.payment_claim.is_not(None),
                            OrderRow.payment_claimed_at <= func.now() - services.payment_claim_ttl,
                        )
                        .limit(RECOVER_BATCH)
                        .with_for_update(skip_locked=True)
                    )
                )
                # Taking the claim over: a slow live `pay` can no longer record.
                .values(payment_claim=func.gen_random_uuid(), payment_claimed_at=func.now())
                .returning(
                    OrderRow.id,
                    OrderRow.payment_claim,
                    OrderRow.payment_claim_key,
                    OrderRow.total,
                    OrderRow.currency_code,
                    OrderRow.payment_claim_token_hash,
                )
            )
        ).all()
    return [Claim(*row) for row in stale]


async def _settle_stale(db: Database, services: OrdersServices, taken: Claim) -> bool:
    """Complete or record one taken-over claim by what the provider charged; False if
    its outcome still cannot be established (or the claim was taken from us again)."""
    try:
        found = await _find_charge(services, taken)
        outcome = (
            NOTHING_CHARGED
            if found is None
            else await _complete(services, taken, found, on_inventory_error=_keep_claim)
        )
    except Unsettled:
        logger.exception("stale payment claim on order %s is still unsettled", taken.order_id)
        return False
    if not await record(db, taken, outcome):
        return False
    if outcome.expired:
        await release_quietly(services, taken.order_id)
    return True
