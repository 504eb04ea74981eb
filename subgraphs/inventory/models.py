"""inventory's tables.

`reserved` counts units held by ACTIVE reservations; the CHECKs make
`available = on_hand - reserved` impossible to drive below zero.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, false, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ACTIVE = "ACTIVE"
COMMITTED = "COMMITTED"
RELEASED = "RELEASED"
EXPIRED = "EXPIRED"


class Base(DeclarativeBase):
    pass


class StockItemRow(Base):
    __tablename__ = "stock_items"

    product_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    on_hand: Mapped[int] = mapped_column(Integer)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    # A StockLow was published for the current spell at or below the threshold (stock_low.py).
    low_alerted: Mapped[bool] = mapped_column(Boolean, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ReservationRow(Base):
    __tablename__ = "reservations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ReservationLineRow(Base):
    __tablename__ = "reservation_lines"

    reservation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reservations.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)


class AbandonedCommitRow(Base):
    """A commit attempt its caller gave up on while the reservation was ACTIVE.

    A commit that carries this attempt id and arrives later changes nothing
    (see stock.abandon_commit).
    """

    __tablename__ = "abandoned_commits"

    reservation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reservations.id", ondelete="CASCADE"), primary_key=True
    )
    attempt_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StockAdjustmentRow(Base):
    __tablename__ = "stock_adjustments"

    idempotency_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    product_id: Mapped[uuid.UUID]
    delta: Mapped[int] = mapped_column(Integer)
    on_hand_after: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
