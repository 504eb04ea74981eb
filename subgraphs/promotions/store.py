"""Reading and writing promotions; what "active" means at a moment.

A promotion is, at time `now` (checked in this order):
DISABLED once `disabled_at` is set (for good), EXPIRED from `ends_at` on,
SCHEDULED before `starts_at`, else ACTIVE.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from subgraphs.common.database import Database

from .engine import Offer, Rule
from .models import PromotionRow
from .rules import rule_of, stored


class Status(Enum):
    """Where a promotion is in its life."""

    SCHEDULED = "SCHEDULED"
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    DISABLED = "DISABLED"


@dataclass(frozen=True)
class NewPromotion:
    """A validated createPromotion input."""

    code: str
    description: str
    rule: Rule
    priority: int
    starts_at: datetime
    ends_at: datetime | None


def status_of(row: PromotionRow, now: datetime) -> Status:
    """The row's status at `now`."""
    if row.disabled_at is not None:
        return Status.DISABLED
    if row.ends_at is not None and row.ends_at <= now:
        return Status.EXPIRED
    if row.starts_at > now:
        return Status.SCHEDULED
    return Status.ACTIVE


def status_condition(status: Status, now: datetime) -> ColumnElement[bool]:
    """SQL that holds for the rows whose status at `now` is `status` (as status_of)."""
    table = PromotionRow
    enabled = table.disabled_at.is_(None)
    ended = and_(table.ends_at.is_not(None), table.ends_at <= now)
    if status is Status.DISABLED:
        return table.disabled_at.is_not(None)
    if status is Status.EXPIRED:
        return and_(enabled, ended)
    if status is Status.SCHEDULED:
        return and_(enabled, table.starts_at > now)
    return and_(enabled, table.starts_at <= now, or_(table.ends_at.is_(None), table.ends_at > now))


def offer_of(row: PromotionRow) -> Offer:
    """The engine's view of a stored promotion."""
    return Offer(row.code, row.description, rule_of(row.kind, row.parameters), row.priority)


async def active(db: Database, now: datetime) -> list[PromotionRow]:
    """The promotions active at `now`, highest priority first, then by code."""
    stmt = (
        select(PromotionRow)
        .where(status_condition(Status.ACTIVE, now))
        .order_by(PromotionRow.priority.desc(), PromotionRow.code)
    )
    async with db.session() as session:
        return list((await session.scalars(stmt)).all())


async def by_code(db: Database, code: str) -> PromotionRow | None:
    """The promotion with `code` (already normalized), if any."""
    async with db.session() as session:
        found: PromotionRow | None = await session.scalar(
            select(PromotionRow).where(PromotionRow.code == code)
        )
        return found


async def create(db: Database, new: NewPromotion) -> PromotionRow | None:
    """Store `new`; None if its code is taken (by a concurrent create too)."""
    kind, parameters = stored(new.rule)
    values = {
        "id": uuid.uuid4(),
        "code": new.code,
        "description": new.description,
        "kind": kind,
        "parameters": parameters,
        "priority": new.priority,
        "starts_at": new.starts_at,
        "ends_at": new.ends_at,
    }
    stmt = insert(PromotionRow).values(values).on_conflict_do_nothing(index_elements=["code"])
    async with db.session() as session, session.begin():
        created = await session.scalar(stmt.returning(PromotionRow.id))
    return None if created is None else await by_code(db, new.code)


async def reschedule(
    db: Database, code: str, starts_at: datetime, ends_at: datetime | None
) -> PromotionRow | None:
    """Set the schedule of the enabled promotion `code`; None if no such enabled one."""
    stmt = (
        update(PromotionRow)
        .where(PromotionRow.code == code, PromotionRow.disabled_at.is_(None))
        .values(starts_at=starts_at, ends_at=ends_at)
        .returning(PromotionRow.id)
    )
    async with db.session() as session, session.begin():
        changed = await session.scalar(stmt)
    return None if changed is None else await by_code(db, code)


async def disable(db: Database, code: str, now: datetime) -> PromotionRow | None:
    """Disable `code` for good (a second time keeps the first time); None if no such code."""
    stmt = (
        update(PromotionRow)
        .where(PromotionRow.code == code, PromotionRow.disabled_at.is_(None))
        .values(disabled_at=now)
    )
    async with db.session() as session, session.begin():
        await session.execute(stmt)
    return await by_code(db, code)
