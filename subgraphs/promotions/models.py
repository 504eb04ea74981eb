"""promotions' table: one row per promotion, its rule's parameters as JSON.

`kind` says how to read `parameters` (rules.py); the CHECKs keep a schedule
that ends before it starts out of the table.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

CODE_LENGTH = 32
DESCRIPTION_LENGTH = 500


class Base(DeclarativeBase):
    """promotions' tables."""


class PromotionRow(Base):
    """One promotion: its code, text, kind and parameters, priority and schedule."""

    __tablename__ = "promotions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    description: Mapped[str] = mapped_column(String(DESCRIPTION_LENGTH))
    kind: Mapped[str] = mapped_column(String(32))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
