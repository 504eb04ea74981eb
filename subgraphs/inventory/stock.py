"""Stock operations, each one transaction.

Lock order is always: reservation row(s) first, then stock rows in product-id
order, so concurrent reserves, commits, releases and the expiry sweep never
deadlock. Selling is a conditional UPDATE (`on_hand - reserved >= qty`), so
available stock cannot go negative whatever the concurrency.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.database import Database
from subgraphs.common.live import live_in

from . import stock_low
from .models import (
    ACTIVE,
    COMMITTED,
    EXPIRED,
    RELEASED,
    AbandonedCommitRow,
    ReservationLineRow,
    ReservationRow,
    StockAdjustmentRow,
    StockItemRow,
)

SWEEP_BATCH = 500
# Live updates of a product's stock (live.py: shop.live.stock.<productId>).
LIVE_TOPIC = "stock"


class Failure(Enum):
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    NOT_FOUND = "NOT_FOUND"
    NOT_ACTIVE = "NOT_ACTIVE"
    KEY_REUSED = "KEY_REUSED"
    ABANDONED = "ABANDONED"  # the commit's caller gave up on it first


@dataclass(frozen=True)
class Shortage:
    product_id: uuid.UUID
    requested: int
    available: int


@dataclass(frozen=True)
class Reservation:
    id: uuid.UUID
    status: str
    expires_at: datetime
    created_at: datetime
    lines: tuple[tuple[uuid.UUID, int], ...]


@dataclass(frozen=True)
class ReservationResult:
    reservation: Reservation | None
    failure: Failure | None = None
    shortages: tuple[Shortage, ...] = ()


@dataclass(frozen=True)
class Adjustment:
    idempotency_key: str
    product_id: uuid.UUID
    delta: int
    on_hand_after: int
    created_at: datetime


@dataclass(frozen=True)
class AdjustmentResult:
    adjustment: Adjustment | None
    failure: Failure | None = None


class _Rollback(Exception):
    def __init__(self, result: ReservationResult) -> None:
        self.result = result


def merge_lines(lines: Iterable[tuple[uuid.UUID, int]]) -> tuple[tuple[uuid.UUID, int], ...]:
    """One entry per product, in lock order."""
    totals: dict[uuid.UUID, int] = {}
    for product_id, quantity in lines:
        totals[product_id] = totals.get(product_id, 0) + quantity
    return tuple(sorted(totals.items()))


async def _reservation(
    session: AsyncSession, reservation_id: uuid.UUID, lock: bool
) -> Reservation | None:
    stmt = select(ReservationRow).where(ReservationRow.id == reservation_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.scalars(stmt)).one_or_none()
    if row is None:
        return None
    lines = (
        await session.execute(
            select(ReservationLineRow.product_id, ReservationLineRow.quantity)
            .where(ReservationLineRow.reservation_id == reservation_id)
            .order_by(ReservationLineRow.product_id)
        )
    ).all()
    return Reservation(
        row.id, row.status, row.expires_at, row.created_at, tuple((p, q) for p, q in lines)
    )


async def get_reservation(db: Database, reservation_id: uuid.UUID) -> Reservation | None:
    async with db.session() as session:
        return await _reservation(session, reservation_id, lock=False)


async def _move_stock(
    session: AsyncSession, lines: Sequence[tuple[uuid.UUID, int]], *, on_hand: int, reserved: int
) -> None:
    """Apply on_hand += on_hand*qty, reserved += reserved*qty per line, in lock order."""
    for product_id, quantity in sorted(lines):
        live_in(session, LIVE_TOPIC, product_id)
        await session.execute(
            update(StockItemRow)
            .where(StockItemRow.product_id == product_id)
            .values(
                on_hand=StockItemRow.on_hand + on_hand * quantity,
                reserved=StockItemRow.reserved + reserved * quantity,
                updated_at=func.now(),
            )
        )


async def _set_status(session: AsyncSession, reservation_id: uuid.UUID, status: str) -> None:
    await session.execute(
        update(ReservationRow)
        .where(ReservationRow.id == reservation_id)
        .values(status=status, updated_at=func.now())
    )


async def reserve(
    db: Database,
    reservation_id: uuid.UUID,
    lines: Iterable[tuple[uuid.UUID, int]],
    ttl: timedelta,
) -> ReservationResult:
    """Hold every line or nothing. Repeating a reservation id returns the first result."""
    wanted = merge_lines(lines)
    try:
        async with db.session() as session, session.begin():
            inserted = await session.scalar(
                insert(ReservationRow)
                .values(id=reservation_id, status=ACTIVE, expires_at=func.now() + ttl)
                .on_conflict_do_nothing(index_elements=[ReservationRow.id])
                .returning(ReservationRow.id)
            )
            if inserted is None:
                return await _repeated_reserve(session, reservation_id, wanted)
            shortages = await _take_stock(session, wanted)
            if shortages:
                raise _Rollback(
                    ReservationResult(None, Failure.INSUFFICIENT_STOCK, tuple(shortages))
                )
            session.add_all(
                ReservationLineRow(reservation_id=reservation_id, product_id=p, quantity=q)
                for p, q in wanted
            )
            await session.flush()
            created = await _reservation(session, reservation_id, lock=False)
            return ReservationResult(created)
    except _Rollback as rollback:
        return rollback.result


async def _repeated_reserve(
    session: AsyncSession, reservation_id: uuid.UUID, wanted: tuple[tuple[uuid.UUID, int], ...]
) -> ReservationResult:
    """The answer to a reserve whose id exists: the first result, if it asked the same."""
    existing = await _reservation(session, reservation_id, lock=True)
    assert existing is not None
    if existing.status not in (ACTIVE, COMMITTED):
        return ReservationResult(existing, Failure.NOT_ACTIVE)
    if existing.lines != wanted:
        return ReservationResult(existing, Failure.KEY_REUSED)
    return ReservationResult(existing)


async def _take_stock(
    session: AsyncSession, wanted: Sequence[tuple[uuid.UUID, int]]
) -> list[Shortage]:
    """Reserve each line where enough is available; the lines that were short."""
    shortages = []
    for product_id, quantity in wanted:
        taken = await session.scalar(
            update(StockItemRow)
            .where(
                StockItemRow.product_id == product_id,
                StockItemRow.on_hand - StockItemRow.reserved >= quantity,
            )
            .values(reserved=StockItemRow.reserved + quantity, updated_at=func.now())
            .returning(StockItemRow.product_id)
        )
        if taken is not None:
            live_in(session, LIVE_TOPIC, product_id)
        else:
            available = await session.scalar(
                select(StockItemRow.on_hand - StockItemRow.reserved).where(
                    StockItemRow.product_id == product_id
                )
            )
            shortages.append(Shortage(product_id, quantity, int(available or 0)))
    return shortages


async def commit(
    db: Database, reservation_id: uuid.UUID, attempt_id: uuid.UUID | None = None
) -> ReservationResult:
    """Turn held units into sold ones (on_hand and reserved both drop).

    `attempt_id` names the caller's attempt; once `abandon_commit` has fenced
    it, this changes nothing and fails with ABANDONED.
    """
    async with db.session() as session, session.begin():
        existing = await _reservation(session, reservation_id, lock=True)
        if existing is None:
            return ReservationResult(None, Failure.NOT_FOUND)
        if attempt_id is not None and await _abandoned(session, reservation_id, attempt_id):
            return ReservationResult(existing, Failure.ABANDONED)
        if existing.status == COMMITTED:
            return ReservationResult(existing)
        existing = await _expire_if_overdue(session, existing)
        if existing.status != ACTIVE:
            return ReservationResult(existing, Failure.NOT_ACTIVE)
        return ReservationResult(await _sell(session, existing))


async def _sell(session: AsyncSession, held: Reservation) -> Reservation:
    """Sell the units `held` holds (ACTIVE, locked): on_hand and reserved both drop."""
    await _move_stock(session, held.lines, on_hand=-1, reserved=-1)
    await _set_status(session, held.id, COMMITTED)
    await stock_low.observe(session, [p for p, _ in held.lines], may_alert=True)
    return _with_status(held, COMMITTED)


async def abandon_commit(
    db: Database, reservation_id: uuid.UUID, attempt_id: uuid.UUID
) -> ReservationResult:
    """Fence off a commit attempt whose caller stopped waiting; returns the reservation now.

    Both this and `commit` hold the reservation's row lock, so exactly one of
    two things happened: the commit ran first (the reservation is COMMITTED and
    the caller keeps the sale), or it has not and never will (the reservation
    is returned ACTIVE, still holding its units for the order). Safe to repeat.
    """
    async with db.session() as session, session.begin():
        existing = await _reservation(session, reservation_id, lock=True)
        if existing is None:
            return ReservationResult(None, Failure.NOT_FOUND)
        existing = await _expire_if_overdue(session, existing)
        if existing.status == ACTIVE:
            await session.execute(
                insert(AbandonedCommitRow)
                .values(reservation_id=reservation_id, attempt_id=attempt_id)
                .on_conflict_do_nothing()
            )
        return ReservationResult(existing)


async def _abandoned(
    session: AsyncSession, reservation_id: uuid.UUID, attempt_id: uuid.UUID
) -> bool:
    found = await session.scalar(
        select(AbandonedCommitRow.attempt_id).where(
            AbandonedCommitRow.reservation_id == reservation_id,
            AbandonedCommitRow.attempt_id == attempt_id,
        )
    )
    return found is not None


async def _expire_if_overdue(session: AsyncSession, existing: Reservation) -> Reservation:
    """An ACTIVE reservation past its expiry is expired now (units returned), as the sweep does."""
    if existing.status != ACTIVE:
        return existing
    # clock_timestamp, not now(): the row lock may have been waited for since the transaction began.
    now = await session.scalar(select(func.clock_timestamp()))
    if existing.expires_at > now:
        return existing
    await _move_stock(session, existing.lines, on_hand=0, reserved=-1)
    await _set_status(session, existing.id, EXPIRED)
    await stock_low.observe(session, [p for p, _ in existing.lines], may_alert=False)
    return _with_status(existing, EXPIRED)


async def release(db: Database, reservation_id: uuid.UUID) -> ReservationResult:
    """Undo a reservation, whatever it did; safe to repeat and safe to call first.

    Releasing an id that was never reserved records it as RELEASED, so a
    reserve call that arrives late (after its caller gave up) holds nothing.
    An EXPIRED one (units already back) becomes RELEASED too: its order gave it
    up, so a late OrderPaid must not take units for it again (commit_paid).
    """
    async with db.session() as session, session.begin():
        tombstone = await session.scalar(
            insert(ReservationRow)
            .values(id=reservation_id, status=RELEASED, expires_at=func.now())
            .on_conflict_do_nothing(index_elements=[ReservationRow.id])
            .returning(ReservationRow.id)
        )
        existing = await _reservation(session, reservation_id, lock=tombstone is None)
        assert existing is not None
        if existing.status == ACTIVE:
            await _move_stock(session, existing.lines, on_hand=0, reserved=-1)
        elif existing.status == COMMITTED:
            await _move_stock(session, existing.lines, on_hand=1, reserved=0)
        elif existing.status != EXPIRED:
            return ReservationResult(existing)
        await _set_status(session, reservation_id, RELEASED)
        await stock_low.observe(session, [p for p, _ in existing.lines], may_alert=False)
        return ReservationResult(_with_status(existing, RELEASED))


class PaidOutcome(Enum):
    COMMITTED = "COMMITTED"  # the units it held are sold
    RETAKEN = "RETAKEN"  # it had expired; its units were taken again and sold
    ALREADY_COMMITTED = "ALREADY_COMMITTED"
    UNKNOWN = "UNKNOWN"  # no reservation has this id
    RELEASED = "RELEASED"  # its order gave it up (cancelled, or its checkout undone)
    SHORT = "SHORT"  # it had expired and its units are not all available any more


@dataclass(frozen=True)
class PaidCommit:
    outcome: PaidOutcome
    shortages: tuple[Shortage, ...] = ()

    @property
    def failed(self) -> bool:
        """The order is paid but its units could not be sold to it."""
        return self.outcome in (PaidOutcome.RELEASED, PaidOutcome.SHORT)


class _Short(Exception):
    def __init__(self, shortages: Sequence[Shortage]) -> None:
        self.shortages = tuple(shortages)


async def commit_paid(
    session: AsyncSession, reservation_id: uuid.UUID, ordered: Iterable[tuple[uuid.UUID, int]]
) -> PaidCommit:
    """Sell a paid order's units, in the caller's transaction (the OrderPaid consumer).

    An expired reservation is taken again from available stock, all lines or
    none; `ordered` (the order's lines) stands in for a reservation that holds
    no lines. Idempotent: a committed reservation is left as it is.
    """
    existing = await _reservation(session, reservation_id, lock=True)
    if existing is None:
        return PaidCommit(PaidOutcome.UNKNOWN)
    if existing.status == COMMITTED:
        return PaidCommit(PaidOutcome.ALREADY_COMMITTED)
    existing = await _expire_if_overdue(session, existing)
    if existing.status == ACTIVE:
        await _sell(session, existing)
        return PaidCommit(PaidOutcome.COMMITTED)
    if existing.status == RELEASED:
        return PaidCommit(PaidOutcome.RELEASED)
    return await _retake_and_sell(session, existing, existing.lines or merge_lines(ordered))


async def _retake_and_sell(
    session: AsyncSession, lapsed: Reservation, lines: tuple[tuple[uuid.UUID, int], ...]
) -> PaidCommit:
    try:
        async with session.begin_nested():  # a shortage undoes the lines already taken
            shortages = await _take_stock(session, lines)
            if shortages:
                raise _Short(shortages)
    except _Short as short:
        return PaidCommit(PaidOutcome.SHORT, short.shortages)
    if not lapsed.lines:
        session.add_all(
            ReservationLineRow(reservation_id=lapsed.id, product_id=p, quantity=q) for p, q in lines
        )
        await session.flush()
    held = Reservation(lapsed.id, ACTIVE, lapsed.expires_at, lapsed.created_at, lines)
    await _sell(session, held)
    return PaidCommit(PaidOutcome.RETAKEN)


async def release_cancelled(session: AsyncSession, reservation_id: uuid.UUID) -> str | None:
    """Give a cancelled order's held units back, in the caller's transaction (the
    OrderCancelled consumer); returns the status it found (None: no such reservation).

    ACTIVE and EXPIRED become RELEASED (ACTIVE's units return). COMMITTED stays
    sold: only orders' synchronous releaseReservation at cancel time, or staff's
    adjustStock, puts sold units back (docs/email.md, "Stock and events").
    """
    existing = await _reservation(session, reservation_id, lock=True)
    if existing is None:
        return None
    found = existing.status
    if found == ACTIVE:
        await _move_stock(session, existing.lines, on_hand=0, reserved=-1)
    if found in (ACTIVE, EXPIRED):
        await _set_status(session, existing.id, RELEASED)
        await stock_low.observe(session, [p for p, _ in existing.lines], may_alert=False)
    return found


def _with_status(reservation: Reservation, status: str) -> Reservation:
    return Reservation(
        reservation.id, status, reservation.expires_at, reservation.created_at, reservation.lines
    )


async def release_expired(db: Database) -> int:
    """Expire overdue ACTIVE reservations, returning their units; returns how many."""
    total = 0
    while True:
        async with db.session() as session, session.begin():
            ids = (
                await session.scalars(
                    select(ReservationRow.id)
                    .where(ReservationRow.status == ACTIVE, ReservationRow.expires_at <= func.now())
                    .order_by(ReservationRow.id)
                    .limit(SWEEP_BATCH)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not ids:
                return total
            held = (
                await session.execute(
                    select(ReservationLineRow.product_id, func.sum(ReservationLineRow.quantity))
                    .where(ReservationLineRow.reservation_id.in_(ids))
                    .group_by(ReservationLineRow.product_id)
                )
            ).all()
            await _move_stock(session, [(p, int(q)) for p, q in held], on_hand=0, reserved=-1)
            await stock_low.observe(session, [p for p, _ in held], may_alert=False)
            await session.execute(
                update(ReservationRow)
                .where(ReservationRow.id.in_(ids))
                .values(status=EXPIRED, updated_at=func.now())
            )
            total += len(ids)
            if len(ids) < SWEEP_BATCH:
                return total


async def adjust(
    db: Database, product_id: uuid.UUID, delta: int, idempotency_key: str, actor_id: str
) -> AdjustmentResult:
    """Change on-hand stock; a repeated key returns the first adjustment unchanged."""
    for _ in range(2):  # a concurrent twin with the same key makes the first try lose
        try:
            return await _adjust_once(db, product_id, delta, idempotency_key, actor_id)
        except IntegrityError:
            continue
    return await _adjust_once(db, product_id, delta, idempotency_key, actor_id)


async def _adjust_once(
    db: Database, product_id: uuid.UUID, delta: int, idempotency_key: str, actor_id: str
) -> AdjustmentResult:
    async with db.session() as session, session.begin():
        previous = await session.get(StockAdjustmentRow, idempotency_key)
        if previous is not None:
            if previous.product_id != product_id or previous.delta != delta:
                return AdjustmentResult(None, Failure.KEY_REUSED)
            return AdjustmentResult(_adjustment(previous))
        on_hand = await _change_on_hand(session, product_id, delta)
        if on_hand is None:
            return AdjustmentResult(None, Failure.INSUFFICIENT_STOCK)
        row = StockAdjustmentRow(
            idempotency_key=idempotency_key,
            product_id=product_id,
            delta=delta,
            on_hand_after=int(on_hand),
            actor_id=actor_id,
        )
        session.add(row)
        await session.flush()
        await session.refresh(row)
        await stock_low.observe(session, [product_id], may_alert=delta < 0)
        return AdjustmentResult(_adjustment(row))


async def _change_on_hand(session: AsyncSession, product_id: uuid.UUID, delta: int) -> int | None:
    """on_hand += delta (a first positive delta creates the row); the new on_hand, or None
    when removing that many would take units that are reserved or not there."""
    on_hand = await _write_on_hand(session, product_id, delta)
    if on_hand is not None:
        live_in(session, LIVE_TOPIC, product_id)
    return on_hand


async def _write_on_hand(session: AsyncSession, product_id: uuid.UUID, delta: int) -> int | None:
    if delta >= 0:
        return await session.scalar(
            insert(StockItemRow)
            .values(product_id=product_id, on_hand=delta, reserved=0)
            .on_conflict_do_update(
                index_elements=[StockItemRow.product_id],
                set_={"on_hand": StockItemRow.on_hand + delta, "updated_at": func.now()},
            )
            .returning(StockItemRow.on_hand)
        )
    return await session.scalar(
        update(StockItemRow)
        .where(
            StockItemRow.product_id == product_id,
            StockItemRow.on_hand + delta >= StockItemRow.reserved,
        )
        .values(on_hand=StockItemRow.on_hand + delta, updated_at=func.now())
        .returning(StockItemRow.on_hand)
    )


def _adjustment(row: StockAdjustmentRow) -> Adjustment:
    return Adjustment(
        row.idempotency_key, row.product_id, row.delta, row.on_hand_after, row.created_at
    )


async def stock_levels(
    db: Database, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, int]]:
    """(on_hand, reserved) for each known product; one statement for any number of ids."""
    async with db.session() as session:
        rows = (
            await session.execute(
                select(StockItemRow.product_id, StockItemRow.on_hand, StockItemRow.reserved).where(
                    StockItemRow.product_id.in_(set(product_ids))
                )
            )
        ).all()
    return {p: (on_hand, reserved) for p, on_hand, reserved in rows}
