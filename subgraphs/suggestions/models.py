"""suggestions' tables: the baskets it heard of, and the counts derived from bought ones.

A basket counts (`counted`) once its lines are known (OrderPlaced), it is bought
(PaymentCaptured or OrderPaid) and it is not cancelled (OrderCancelled), whatever order those
events arrive in. `co_purchases` holds every ordered pair of distinct products of
the counted baskets (both directions, so one index answers a product's suggestions);
`product_sales` the units bought per product. Both are kept up to date per event
and rebuilt from the baskets by the full recompute (recompute.py); `counts_state`
holds the version every change of the counted baskets bumps, which tells the
recompute whether its snapshot is still current when it swaps its result in.

`basket_lines` and `co_purchases` have no class here: only set-based SQL reads and
writes them (counts.py, queries.py, recompute.py); their shape is in the migration.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Computed, DateTime, Integer, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

COUNTED = "placed AND bought AND NOT cancelled"


class Base(DeclarativeBase):
    """suggestions' tables."""


class BasketRow(Base):
    """One order as the events told it: its buyer and how far it got."""

    __tablename__ = "baskets"

    order_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    placed: Mapped[bool] = mapped_column(Boolean, default=False)
    bought: Mapped[bool] = mapped_column(Boolean, default=False)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    counted: Mapped[bool] = mapped_column(Boolean, Computed(COUNTED, persisted=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class ProductSalesRow(Base):
    """Units of a product in counted baskets (best sellers), and in how many baskets."""

    __tablename__ = "product_sales"

    product_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    quantity: Mapped[int] = mapped_column(BigInteger)
    baskets: Mapped[int] = mapped_column(Integer)


class CountsStateRow(Base):
    """The single row whose `version` every change of the counted baskets bumps."""

    __tablename__ = "counts_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
