"""payments' tables: one row per charge attempt (idempotency key), and the fake
gateway's own record of what it charged.

A payment row is written PENDING before the gateway is asked, under a unique
idempotency key, so concurrent callers with one key find one row and only its
writer talks to the gateway. `fake_gateway_charges` belongs to FakeGateway,
which plays the outside provider: the shop's code never reads it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, Integer, Numeric, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

PENDING = "PENDING"
AUTHORIZED = "AUTHORIZED"
CAPTURED = "CAPTURED"
DECLINED = "DECLINED"
REFUNDED = "REFUNDED"
FAILED = "FAILED"
# The gateway may still be acting on these; the rest are settled.
IN_FLIGHT = (PENDING, AUTHORIZED)
KEY_LENGTH = 200
REASON_LENGTH = 500


class Base(DeclarativeBase):
    """payments' tables."""


class PaymentRow(Base):
    """One charge attempt for an order, keyed by its idempotency key."""

    __tablename__ = "payments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(index=True)
    user_id: Mapped[uuid.UUID]
    idempotency_key: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    # SHA-256 of the payment token (never the token itself), to tell a reused key.
    token_hash: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency_code: Mapped[str] = mapped_column(String(3))
    gateway: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    # Raised when a FAILED attempt (nothing charged) is tried again: each attempt asks the
    # gateway under its own key (`gateway_key`), so a retry is never a replay of the failure.
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    # The gateway's id of the charge (Stripe: the PaymentIntent id), once known.
    reference: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    reason: Mapped[str | None] = mapped_column(String(REASON_LENGTH))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class FakeChargeRow(Base):
    """What FakeGateway charged: its own state, kept in this database so it survives a
    restart like a real provider's would."""

    __tablename__ = "fake_gateway_charges"

    reference: Mapped[str] = mapped_column(String(64), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency_code: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    refunded_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal(0))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


def gateway_key(payment_id: uuid.UUID, attempt: int) -> str:
    """The idempotency key an attempt's authorization is sent to the gateway under."""
    return f"pay-{payment_id}-{attempt}"
