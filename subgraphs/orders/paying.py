"""Paying an order without a lock or a transaction open across network calls.

`pay` has three steps:

1. Claim, in one short transaction. A conditional UPDATE puts a fresh claim
   token, the caller's idempotency key and the time on the order, only while
   it is PENDING_PAYMENT, unexpired and unclaimed, so exactly one concurrent
   caller wins. The others poll (holding no connection between polls) until
   the claim is gone, then answer as if they had run after the winner: the
   same key replays the recorded result, another key sees the new state.
2. Ask payments to charge the order (chargeOrder), with no transaction and no
   pooled connection held, under a timeout. Payments charges at most once per
   idempotency key, so asking again (a retry, the sweep) never charges twice.
3. Record the outcome in one short transaction, only if our claim token is
   still on the order; that clears the claim. CAPTURED makes the order PAID
   and publishes OrderPaid in that transaction: inventory commits the stock
   when it gets it, and if it cannot, its StockCommitFailed cancels the order
   and payments refunds it (reactions.py). `pay` never waits for inventory.
   DECLINED is recorded (it uses up the key); FAILED means nothing was charged
   and nothing is recorded, so the key stays free. An order whose total is 0.00
   (a 100% promotion) skips step 2: it is recorded PAID at once, with no charge.

The order's status stays PENDING_PAYMENT while claimed, so the API does not
change; the expiry sweep skips claimed orders and cancelling waits for them.

When the outcome is unknown (payments answers PENDING, cannot be reached or
does not answer in time, the process dies mid-payment) the claim stays. It is
settled by payments' PaymentCaptured or PaymentFailed event (reactions.py) or,
once older than `payment_claim_ttl`, by `recover_stale_claims`, which asks
payments' settlePayment (payments asks its gateway).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.auth import Viewer
from subgraphs.common.database import Database
from subgraphs.common.errors import Forbidden
from subgraphs.common.idempotency import MAX_KEY_LENGTH, clean_idempotency_key
from subgraphs.common.types import UserError, UserErrorCode, user_error

from .checkout import release_quietly
from .clients import ChargeRequest, ChargeResult, UpstreamError, UpstreamRefused
from .lifecycle import EXPIRED, ClaimWait, OrderResult, order_not_found
from .models import (
    CANCELLED,
    CAPTURED,
    DECLINED,
    FAILED,
    PAID,
    PENDING_PAYMENT,
    REFUNDED,
    OrderRow,
    PaymentRow,
)
from .order_events import publish_order_cancelled, publish_order_paid
from .payment_keys import lock_owner_keys, other_token, token_hash, used_for_another_order
from .services import OrdersServices

logger = logging.getLogger("shopgraph.orders.paying")

RECOVER_BATCH = 20
PAYMENTS_UNAVAILABLE = (
    "Payments are unavailable; nothing was charged, retry with the same idempotencyKey"
)
UNCONFIRMED = "The payment could not be confirmed yet; retry with the same key for its result"

# Settling tasks outlive a cancelled request (see `pay`); keep them referenced.
_settling: set[asyncio.Task[OrderResult]] = set()


@dataclass(frozen=True)
class Claim:
    """A payment claim on an order: who may charge it, under which key, for how much."""

    order_id: uuid.UUID
    token: uuid.UUID | None  # None: an event settles an order nobody has claimed
    key: str
    amount: Decimal
    currency: str
    user_id: uuid.UUID
    token_hash: str | None = None  # of the payment token (None: a claim made before 0003)

    @property
    def payments_key(self) -> str:
        """The idempotency key payments charges under.

        A pay key is the customer's and scoped to the order; payments' keys are global,
        hence the order id. The token's hash is in it because a key whose charge failed
        (nothing charged) may be retried with another token, which is a new charge.
        """
        return payments_key(self.order_id, self.token_hash, self.key)


def payments_key(order_id: uuid.UUID, hashed_token: str | None, key: str) -> str:
    """`<order id>:<first 16 hex digits of the token's SHA-256>:<pay key>`; a pay key too
    long for payments' 200 characters is replaced by its SHA-256."""
    prefix = f"{order_id}:{(hashed_token or '')[:16]}:"
    if len(prefix) + len(key) > MAX_KEY_LENGTH:
        key = hashlib.sha256(key.encode()).hexdigest()
    return prefix + key


@dataclass(frozen=True)
class Outcome:
    """What a settled payment writes: a payments row (unless nothing was charged) and the
    order (PAID for a captured payment)."""

    payment_status: str | None
    reference: str | None = None  # payments' id of the payment
    token_reused: bool = False

    @property
    def paid(self) -> bool:
        return self.payment_status == CAPTURED

    @property
    def errors(self) -> tuple[UserError, ...]:
        if self.token_reused:
            return (other_token(),)
        if self.payment_status is None:
            # Nothing was charged or recorded: the key is still free for this order.
            return (user_error(UserErrorCode.SERVICE_UNAVAILABLE, PAYMENTS_UNAVAILABLE),)
        return _replayed_errors(self.payment_status)


NOTHING_CHARGED = Outcome(None)
# An order whose total is 0.00 is paid without a charge: recorded CAPTURED (so its key
# replays as paid) with no payments reference; OrderPaid carries a null paymentId.
FREE = Outcome(CAPTURED)


class Unsettled(Exception):
    """The payment's outcome could not be established; the claim stays for the sweep."""


@dataclass(frozen=True)
class Answer:
    """The caller does not charge: this is its result."""

    result: OrderResult
    release_stock: bool = False


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
    problems = tuple(p for p in (problem, _token_problem(payment_token)) if p is not None)
    if problems:
        return OrderResult(None, problems)
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


def _token_problem(payment_token: str) -> UserError | None:
    """A blank token is refused before any claim: no provider can charge it."""
    if payment_token.strip():
        return None
    message = "paymentToken must not be blank: pass the token from the payment form"
    return user_error(UserErrorCode.INVALID_INPUT, message, "input", "paymentToken")


def _refused(order_id: uuid.UUID) -> OrderResult:
    """payments refused the charge's values (BAD_USER_INPUT): nothing was charged, the key
    is still free; the answer is a userError, not a 500."""
    message = "Payments cannot charge this order as it is; nothing was charged"
    return OrderResult(order_id, (user_error(UserErrorCode.ORDER_NOT_PAYABLE, message),))


def _too_many_attempts(order_id: uuid.UUID) -> OrderResult:
    """payments takes no more attempts for the order (PAYMENT_ATTEMPTS_EXCEEDED there; the
    closest userError code here): nothing was charged."""
    message = "This order has had the most payment attempts allowed; nothing was charged"
    return OrderResult(
        order_id, (user_error(UserErrorCode.ORDER_NOT_PAYABLE, message, "input", "orderId"),)
    )


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
            .returning(
                OrderRow.total,
                OrderRow.currency_code,
                OrderRow.user_id,
                OrderRow.expires_at <= func.now(),
            )
        )
    ).one_or_none()
    if claimed is None:
        return None  # someone else changed it first: look again
    total, currency, user_id, expired = claimed
    # Our UPDATE waited for any settling transaction, so its payments row is visible now.
    replay = await _replay(session, order_id, key, hashed_token)
    if replay is not None:
        raise _Undo(replay)
    if expired:
        await _cancel_expired(session, order_id, user_id)
        return Answer(OrderResult(order_id, (_expired(),)), release_stock=True)
    return Claim(order_id, token, key, total, currency, user_id, hashed_token)


async def _cancel_expired(session: AsyncSession, order_id: uuid.UUID, user_id: uuid.UUID) -> None:
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
    await publish_order_cancelled(session, order_id, user_id, EXPIRED, was_paid=False)


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
    if claim.amount == 0:
        # A 100% promotion: nothing to charge, so payments is not asked and keeps no payment.
        outcome: Outcome | OrderResult = FREE
    else:
        outcome = await _charged(db, services, claim, payment_token)
    if isinstance(outcome, OrderResult):
        return outcome
    if not await record(db, claim, outcome):
        # An event or the sweep settled the payment first: answer what they recorded.
        async with db.session() as session:
            replay = await _replay(session, claim.order_id, claim.key, claim.token_hash)
        return replay.result if replay else OrderResult(claim.order_id, NOTHING_CHARGED.errors)
    return OrderResult(claim.order_id, outcome.errors)


async def _charged(
    db: Database, services: OrdersServices, claim: Claim, payment_token: str
) -> Outcome | OrderResult:
    """Step 2: payments' outcome of charging the claim, or the answer when there is none."""
    request = ChargeRequest(
        claim.order_id,
        claim.user_id,
        claim.amount,
        claim.currency,
        claim.payments_key,
        payment_token,
    )
    try:
        outcome = await _ask(services, services.payments.charge(request))
    except Unsettled as unsettled:
        logger.warning("payment for order %s is unsettled: %s", claim.order_id, unsettled)
        return OrderResult(
            claim.order_id, (user_error(UserErrorCode.SERVICE_UNAVAILABLE, UNCONFIRMED),)
        )
    except UpstreamRefused as refusal:
        # payments refused the request itself: nothing was charged.
        await record(db, claim, NOTHING_CHARGED)
        if refusal.attempts_exceeded:
            return _too_many_attempts(claim.order_id)
        if not refusal.bad_input:
            raise  # how orders called (auth, the query): our bug, a 500
        logger.warning("payments refused the charge of order %s as bad input", claim.order_id)
        return _refused(claim.order_id)
    if outcome == NOTHING_CHARGED:  # FAILED: the gateway could not be reached or refused
        logger.warning(
            "payment provider failed for order %s: payment provider unavailable", claim.order_id
        )
    return outcome


async def _ask(services: OrdersServices, call: Awaitable[ChargeResult]) -> Outcome:
    """payments' answer as an Outcome; Unsettled while the charge's fate is unknown."""
    try:
        async with asyncio.timeout(services.payments_call_timeout):
            result = await call
    except (UpstreamError, TimeoutError) as exc:
        raise Unsettled(f"payments did not answer: {exc or type(exc).__name__}") from exc
    return outcome_of(result)


def outcome_of(result: ChargeResult) -> Outcome:
    """What to record for payments' answer; Unsettled for PENDING (or AUTHORIZED)."""
    if result.token_reused:
        return Outcome(None, token_reused=True)
    if result.status is None or result.status == FAILED:
        return NOTHING_CHARGED
    if result.status in (CAPTURED, DECLINED, REFUNDED):
        return Outcome(result.status, result.payment_id)
    raise Unsettled(f"payment {result.payment_id} is {result.status}")


async def record(db: Database, claim: Claim, outcome: Outcome) -> bool:
    """Step 3: write `outcome` and clear the claim; False if the claim is no longer ours."""
    async with db.session() as session, session.begin():
        return await record_in(session, claim, outcome)


async def record_in(session: AsyncSession, claim: Claim, outcome: Outcome) -> bool:
    """`record` in the caller's transaction (the event handlers' too): the order (PAID and
    OrderPaid for a captured payment) and orders' own row of the attempt, for replays."""
    ours = await session.scalar(
        update(OrderRow)
        .where(
            OrderRow.id == claim.order_id,
            OrderRow.status == PENDING_PAYMENT,
            OrderRow.payment_claim.is_not_distinct_from(claim.token),
        )
        .values(**_settled(outcome))
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
    if outcome.paid:
        await publish_order_paid(session, claim.order_id, outcome.reference)
    return True


def _settled(outcome: Outcome) -> dict[str, object]:
    """The order's columns once `outcome` is recorded: no claim, and PAID if captured."""
    values: dict[str, object] = {
        "payment_claim": None,
        "payment_claim_key": None,
        "payment_claimed_at": None,
        "payment_claim_token_hash": None,
        "updated_at": func.now(),
    }
    if outcome.paid:
        values.update(status=PAID, paid_at=func.now())
    return values


async def recover_stale_claims(db: Database, services: OrdersServices) -> int:
    """Settle payment claims older than `payment_claim_ttl`; returns how many were settled.

    A stale claim means the `pay` that made it died or could not establish the
    outcome, and no event from payments has settled it either. Payments is asked
    (settlePayment, by the claim's key: payments charges once per key, so this is
    the charge the claim made, if any; payments asks its gateway about one it
    never heard back on):

    - captured: the order becomes PAID and OrderPaid goes out, as in a live `pay`;
    - declined or refunded: recorded as such; the order stays payable;
    - nothing charged under the key: the claim is dropped; the order is payable
      again (and expires as usual).

    Anything that cannot be established now (payments unreachable, the charge
    still pending) keeps the claim, re-stamped, for a later sweep.
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
                    OrderRow.user_id,
                    OrderRow.payment_claim_token_hash,
                )
            )
        ).all()
    return [Claim(*row) for row in stale]


async def _settle_stale(db: Database, services: OrdersServices, taken: Claim) -> bool:
    """Record one taken-over claim by what payments charged under its key; False if that
    still cannot be established (or the claim was taken from us again)."""
    try:
        outcome = await _ask(services, services.payments.settle(taken.payments_key))
    except (Unsettled, UpstreamRefused) as exc:
        logger.warning("stale claim on order %s is still unsettled: %s", taken.order_id, exc)
        return False
    return await record(db, taken, outcome)
