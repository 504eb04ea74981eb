"""products' tables: categories, and products each in one category."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Computed, DateTime, ForeignKey, Numeric, String, Text, func
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SLUG_LENGTH = 280  # a 200-character name's slug, a dash and a 64-character SKU's
CATEGORY_SLUG_LENGTH = 100
IMAGE_URL_LENGTH = 2000
# The unique constraints' names (PostgreSQL's defaults; migrations 0001 and 0002), which
# tell a taken SKU from a slug a concurrent create took first
SKU_CONSTRAINT = "products_sku_key"
SLUG_CONSTRAINT = "products_slug_key"

# The search document (migration 0002): names weigh more than descriptions; each text
# is indexed stemmed ('english': "pearls" finds "pearl") and as written ('simple', for
# prefixes of whole words and for stop words). The texts are folded (search.fold)
# by the application, since PostgreSQL's unaccent is not immutable (nor shipped
# with the embedded server).
SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('english'::regconfig, name_folded), 'A')"
    " || setweight(to_tsvector('simple'::regconfig, name_folded), 'A')"
    " || setweight(to_tsvector('english'::regconfig, description_folded), 'B')"
    " || setweight(to_tsvector('simple'::regconfig, description_folded), 'B')"
)


class Base(DeclarativeBase):
    pass


class CategoryRow(Base):
    __tablename__ = "categories"

    slug: Mapped[str] = mapped_column(String(CATEGORY_SLUG_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ProductRow(Base):
    __tablename__ = "products"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    slug: Mapped[str] = mapped_column(String(SLUG_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category_slug: Mapped[str] = mapped_column(ForeignKey("categories.slug"))
    image_url: Mapped[str | None] = mapped_column(String(IMAGE_URL_LENGTH), nullable=True)
    price_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency_code: Mapped[str] = mapped_column(String(3))
    name_folded: Mapped[str] = mapped_column(Text)
    description_folded: Mapped[str] = mapped_column(Text)
    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR, Computed(SEARCH_VECTOR_SQL, persisted=True), deferred=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
