"""Charging an order once per idempotency key, with no transaction open across a
gateway call.

chargeOrder answers within `charge_budget` seconds: a charge still at work
then answers PENDING and goes on by itself (its event tells orders the end),
so a slow gateway never makes orders, or the router above it, time out first.

1. Start, in one short transaction: INSERT the PENDING payment row under its
   unique key. Of concurrent callers with one key exactly one inserts; the
   others find the row and wait (polling, no connection held) for its final
   state, or answer PENDING when it takes longer than `charge_wait` (or the
   budget). A FAILED
   row (the gateway certainly charged nothing) is taken again by one caller
   (row lock) for a new attempt under a new gateway key.
2. Ask the gateway, each call under `timeout`: authorize, record the
   reference (AUTHORIZED), capture. A call that times out or fails in an
   unknown way is followed by a lookup by the attempt's gateway key; an
   outcome that stays unknown leaves the row in flight for `settle`.
3. Finish, in one short transaction: the final status, only while the row is
   still in flight (so a concurrent settle cannot write it twice), and the
   PaymentCaptured / PaymentFailed event in that same transaction.

settle writes FAILED only when the gateway answered that it has no charge for
an attempt that never got a reference nor reached AUTHORIZED: a lookup that
times out or finds the gateway unavailable leaves the row in flight, since
FAILED lets the key be charged again under a new gateway key.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.database import Database
from subgraphs.common.errors import ApiError, describe_exception
from subgraphs.common.events import new_event, publish_in

from .gateways.base import Gateway, GatewayPayment, GatewayUnavailable
from .models import (
    AUTHORIZED,
    CAPTURED,
    DECLINED,
    FAILED,
    IN_FLIGHT,
    PENDING,
    REFUNDED,
    PaymentRow,
    gateway_key,
)
from .settings import PaymentsSettings

logger = logging.getLogger("shopgraph.payments.charging")

SOURCE = "payments"
POLL_SECONDS = 0.05
UNAVAILABLE = "The payment gateway is unavailable; nothing was charged"
NOTHING_CHARGED = "The gateway has no charge for this payment; nothing was charged"

# Attempts one order may have that reached the gateway's decision (any status but FAILED):
# bounds a customer's declined tries; a new key past it is refused (a key already used still
# answers). FAILED attempts charged nothing and do not count, so an outage cannot lock an order.
MAX_ATTEMPTS_PER_ORDER = 20

# Charges outlive a cancelled request (a caller hanging up); keep them referenced.
_running: set[asyncio.Task[Any]] = set()


class AttemptsExceeded(ApiError):
    """The order has MAX_ATTEMPTS_PER_ORDER attempts already: nothing is charged."""

    code = "PAYMENT_ATTEMPTS_EXCEEDED"


@dataclass(frozen=True)
class PaymentsServices:
    """What the payments resolvers and consumers share: the database, gateway, settings."""

    db: Database
    gateway: Gateway
    settings: PaymentsSettings


@dataclass(frozen=True)
class ChargeRequest:
    """chargeOrder's input, checked."""

    order_id: uuid.UUID
    user_id: uuid.UUID
    amount: Decimal
    currency: str
    key: str
    token: str

    @property
    def token_hash(self) -> str:
        """The SHA-256 of the payment token, hex: what is stored instead of the token."""
        return hashlib.sha256(self.token.encode()).hexdigest()


@dataclass(frozen=True)
class ChargeState:
    """What chargeOrder and settlePayment answer. An in-flight payment reads PENDING."""

    payment_id: uuid.UUID | None
    status: str | None
    reason: str | None = None
    token_reused: bool = False

    @classmethod
    def of(cls, row: PaymentRow) -> ChargeState:
        """The state of `row` as a caller sees it."""
        status = PENDING if row.status in IN_FLIGHT else row.status
        return cls(row.id, status, row.reason)


TOKEN_REUSED = ChargeState(None, None, None, token_reused=True)
UNKNOWN_KEY = ChargeState(None, None, None)


@dataclass(frozen=True)
class Outcome:
    """What the gateway said about one attempt: a final status, or PENDING (unknown)."""

    status: str
    reference: str | None = None
    reason: str | None = None


async def charge(services: PaymentsServices, request: ChargeRequest) -> ChargeState:
    """Authorize and capture `request` once per key (see the module docstring)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + services.settings.charge_budget
    started = await _start(services, request)
    if isinstance(started, ChargeState):
        return started
    if started is None:
        return await _wait_for_other(services, request.key, deadline)
    # A client that hangs up, or a budget spent, must not leave the payment half done.
    task = asyncio.ensure_future(_charge_attempt(services, started, request.token))
    _running.add(task)
    task.add_done_callback(_running.discard)
    try:
        return await asyncio.wait_for(asyncio.shield(task), max(deadline - loop.time(), 0))
    except TimeoutError:
        logger.warning("payments: charge %s outlasted its budget; answered PENDING", started.id)
        return ChargeState(started.id, PENDING)


def _same_charge(row: PaymentRow, request: ChargeRequest, token_matters: bool) -> bool:
    return (
        row.order_id == request.order_id
        and row.user_id == request.user_id
        and row.amount == request.amount
        and row.currency_code == request.currency
        and (not token_matters or row.token_hash == request.token_hash)
    )


async def _start(
    services: PaymentsServices, request: ChargeRequest
) -> PaymentRow | ChargeState | None:
    """Our row to charge, the key's recorded state, or None: someone else is charging it."""
    async with services.db.session() as session, session.begin():
        inserted = await _insert_within_cap(session, services.gateway.name, request)
        if inserted is not None:
            return inserted
        row = await _row_by_key(session, request.key, lock=True)
        if row is None:  # deleted since the conflict (tests truncate): nothing to join
            return UNKNOWN_KEY
        return _take_or_answer(row, request)


async def _insert_within_cap(
    session: AsyncSession, gateway: str, request: ChargeRequest
) -> PaymentRow | None:
    """The new PENDING row for a key not seen yet (None if the key has one); AttemptsExceeded
    when the order has its most attempts. The order's lock makes count-then-insert atomic."""
    if await _row_by_key(session, request.key) is None:
        await session.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended(str(request.order_id), 0)))
        )
        attempts = await session.scalar(
            select(func.count()).where(
                PaymentRow.order_id == request.order_id, PaymentRow.status != FAILED
            )
        )
        if (attempts or 0) >= MAX_ATTEMPTS_PER_ORDER:
            raise AttemptsExceeded(
                f"The order has had {MAX_ATTEMPTS_PER_ORDER} payment attempts, the most "
                "allowed; nothing was charged"
            )
    return await session.scalar(
        insert(PaymentRow)
        .values(
            id=uuid.uuid4(),
            order_id=request.order_id,
            user_id=request.user_id,
            idempotency_key=request.key,
            token_hash=request.token_hash,
            amount=request.amount,
            currency_code=request.currency,
            gateway=gateway,
            status=PENDING,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(PaymentRow)
    )


def _take_or_answer(row: PaymentRow, request: ChargeRequest) -> PaymentRow | ChargeState | None:
    """A FAILED attempt is retried (with this or another token); anything else answers."""
    if row.status == FAILED:
        if not _same_charge(row, request, token_matters=False):
            return TOKEN_REUSED
        row.status, row.reason, row.updated_at = PENDING, None, datetime.now(UTC)
        row.attempt += 1
        row.token_hash = request.token_hash
        return row
    if not _same_charge(row, request, token_matters=True):
        return TOKEN_REUSED
    return None if row.status in IN_FLIGHT else ChargeState.of(row)


async def _row_by_key(session: AsyncSession, key: str, lock: bool = False) -> PaymentRow | None:
    query = select(PaymentRow).where(PaymentRow.idempotency_key == key)
    return await session.scalar(query.with_for_update() if lock else query)


async def _wait_for_other(services: PaymentsServices, key: str, budget_end: float) -> ChargeState:
    """The state another caller's charge under `key` reaches within `charge_wait` (and the
    budget, which ends at loop time `budget_end`)."""
    loop = asyncio.get_running_loop()
    deadline = min(loop.time() + services.settings.charge_wait, budget_end)
    while True:
        async with services.db.session() as session:
            row = await _row_by_key(session, key)
        if row is None:
            return UNKNOWN_KEY
        if row.status not in IN_FLIGHT or loop.time() >= deadline:
            return ChargeState.of(row)
        await asyncio.sleep(POLL_SECONDS)


async def _charge_attempt(services: PaymentsServices, row: PaymentRow, token: str) -> ChargeState:
    outcome = await _authorize(services, row, token)
    if outcome.status == AUTHORIZED and outcome.reference is not None:
        await _record_authorized(services.db, row.id, outcome.reference)
        outcome = await _capture(services, outcome.reference, row)
    return await finish(services.db, row.id, outcome)


async def _gateway_call(services: PaymentsServices, what: str, call: Any) -> GatewayPayment:
    """`call` under the timeout; GatewayUnavailable passes, anything else is logged and
    re-raised as TimeoutError (the outcome is unknown)."""
    try:
        return await asyncio.wait_for(call, services.settings.timeout)
    except GatewayUnavailable:
        raise
    except TimeoutError:
        logger.warning("payments: gateway %s timed out", what)
        raise
    except Exception as error:
        logger.warning("payments: gateway %s failed: %s", what, describe_exception(error))
        raise TimeoutError(what) from error


async def _authorize(services: PaymentsServices, row: PaymentRow, token: str) -> Outcome:
    key = gateway_key(row.id, row.attempt)
    call = services.gateway.authorize(
        row.amount, row.currency_code, token, key, order_id=str(row.order_id)
    )
    try:
        answer = await _gateway_call(services, "authorize", call)
    except GatewayUnavailable:
        return Outcome(FAILED, None, UNAVAILABLE)
    except TimeoutError:
        found = await lookup(services, row)
        return Outcome(PENDING) if found is None else _outcome(found)
    return _outcome(answer)


def _outcome(answer: GatewayPayment) -> Outcome:
    if answer.status == DECLINED:
        return Outcome(DECLINED, answer.reference, answer.decline_reason or "Declined")
    return Outcome(answer.status, answer.reference)


async def lookup(services: PaymentsServices, row: PaymentRow) -> GatewayPayment | None:
    """The gateway's record of `row`'s current attempt; None if it has none or cannot say."""
    try:
        return await _ask_gateway(services, row)
    except (GatewayUnavailable, TimeoutError):
        return None


async def _ask_gateway(services: PaymentsServices, row: PaymentRow) -> GatewayPayment | None:
    """The gateway's record of `row`'s current attempt, None if the gateway answered that it
    has none; GatewayUnavailable / TimeoutError when it did not answer."""
    call = services.gateway.find_by_idempotency_key(
        gateway_key(row.id, row.attempt), reference=row.reference
    )
    return await _gateway_call(services, "lookup", call)


async def _capture(services: PaymentsServices, reference: str, row: PaymentRow) -> Outcome:
    call = services.gateway.capture(reference, row.amount, f"capture-{row.id}-{row.attempt}")
    try:
        return _outcome(await _gateway_call(services, "capture", call))
    except (GatewayUnavailable, TimeoutError):
        found = await lookup(services, row)
        if found is not None and found.status == CAPTURED:
            return _outcome(found)
        return Outcome(AUTHORIZED, reference)  # held, not taken: settle captures it later


async def capture_authorized(services: PaymentsServices, row: PaymentRow) -> Outcome:
    """Capture an attempt the gateway holds as AUTHORIZED (settle's second half)."""
    assert row.reference is not None
    return await _capture(services, row.reference, row)


async def _record_authorized(db: Database, payment_id: uuid.UUID, reference: str) -> None:
    async with db.session() as session, session.begin():
        await session.execute(
            update(PaymentRow)
            .where(PaymentRow.id == payment_id, PaymentRow.status.in_(IN_FLIGHT))
            .values(status=AUTHORIZED, reference=reference)
        )


async def finish(db: Database, payment_id: uuid.UUID, outcome: Outcome) -> ChargeState:
    """Write `outcome` if the payment is still in flight, with its event; the state."""
    async with db.session() as session, session.begin():
        row = await session.scalar(
            select(PaymentRow).where(PaymentRow.id == payment_id).with_for_update()
        )
        if row is None:
            return UNKNOWN_KEY
        if row.status in IN_FLIGHT and outcome.status not in IN_FLIGHT:
            row.status = outcome.status
            row.reference = outcome.reference or row.reference
            row.reason = outcome.reason
            row.updated_at = datetime.now(UTC)
            await _publish_outcome(session, row)
        return ChargeState.of(row)


def payment_data(row: PaymentRow) -> dict[str, Any]:
    """The fields every payment event carries."""
    return {
        "paymentId": str(row.id),
        "orderId": str(row.order_id),
        "userId": str(row.user_id),
        "amount": str(row.amount),
        "currency": row.currency_code,
    }


async def _publish_outcome(session: AsyncSession, row: PaymentRow) -> None:
    data = {**payment_data(row), "gateway": row.gateway, "idempotencyKey": row.idempotency_key}
    if row.status == CAPTURED:
        await publish_in(session, new_event("PaymentCaptured", SOURCE, data))
    elif row.status in (DECLINED, FAILED):
        failed = {**data, "status": row.status, "reason": row.reason}
        await publish_in(session, new_event("PaymentFailed", SOURCE, failed))


async def settle(services: PaymentsServices, key: str) -> ChargeState:
    """Settle the payment under `key` by asking the gateway (see module docstring)."""
    async with services.db.session() as session:
        row = await _row_by_key(session, key)
    if row is None:
        return UNKNOWN_KEY
    if row.status not in IN_FLIGHT:
        return ChargeState.of(row)
    try:
        found = await _ask_gateway(services, row)
    except (GatewayUnavailable, TimeoutError):
        # No answer is not "no charge": the gateway may hold or have taken the money, and
        # FAILED would let the same key charge again under a new gateway key.
        return ChargeState.of(row)
    if found is None:
        return await _settle_unknown_to_gateway(services, row)
    outcome = _outcome(found)
    if outcome.status == AUTHORIZED and found.reference is not None:
        # the authorize answer may have been lost: the row learns its reference here
        await _record_authorized(services.db, row.id, found.reference)
        row.reference = found.reference
        outcome = await capture_authorized(services, row)
    if outcome.status == REFUNDED:
        outcome = Outcome(REFUNDED, found.reference, "Refunded at the gateway")
    return await finish(services.db, row.id, outcome)


async def _settle_unknown_to_gateway(services: PaymentsServices, row: PaymentRow) -> ChargeState:
    """Settle an in-flight `row` the gateway answered it has no charge for. FAILED only for
    an attempt that never got a reference nor reached AUTHORIZED, and whose caller is over."""
    if row.reference is not None:
        # The gateway gave this attempt a reference: the money may be held. Capturing again is
        # idempotent; if that is refused too, the row stays AUTHORIZED for a later settle.
        return await finish(services.db, row.id, await capture_authorized(services, row))
    if row.status == AUTHORIZED or not _surely_over(services.settings, row):
        return ChargeState.of(row)  # held, or the charging caller may still be at work
    return await finish(services.db, row.id, Outcome(FAILED, None, NOTHING_CHARGED))


def _surely_over(settings: PaymentsSettings, row: PaymentRow) -> bool:
    """Whether the caller that started `row`'s attempt has given up on the gateway by now
    (authorize, lookup, capture and lookup each wait at most `timeout`)."""
    quiet_for = datetime.now(UTC) - row.updated_at
    return quiet_for > timedelta(seconds=4 * settings.timeout)


async def settle_stale(services: PaymentsServices, batch: int = 20) -> int:
    """Settle the payments in flight for longer than `pending_ttl` (the periodic sweep);
    how many were looked at."""
    cutoff = datetime.now(UTC) - timedelta(seconds=services.settings.pending_ttl)
    async with services.db.session() as session:
        keys = list(
            await session.scalars(
                select(PaymentRow.idempotency_key)
                .where(PaymentRow.status.in_(IN_FLIGHT), PaymentRow.updated_at < cutoff)
                .order_by(PaymentRow.updated_at)
                .limit(batch)
            )
        )
    for key in keys:
        await settle(services, key)
    return len(keys)
