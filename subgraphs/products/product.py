"""The Product entity and its batched lookups by id, SKU and slug."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import select

from subgraphs.common.context import Context
from subgraphs.common.entities import in_chunks
from subgraphs.common.ids import parse_uuid
from subgraphs.common.types import Money

from .models import ProductRow

if TYPE_CHECKING:
    from .category import Category

Info = strawberry.Info[Context, None]


@strawberry.federation.type(keys=["id", "sku"])
class Product:
    """A catalogue entry."""

    id: strawberry.ID
    sku: str
    slug: str = strawberry.field(
        description="URL-safe unique name, made from the name at creation; it stays when the "
        "name changes, so links keep working."
    )
    name: str
    description: str
    price: Money
    image_url: str | None = strawberry.field(description="The product's picture, if it has one.")
    created_at: datetime
    updated_at: datetime
    category_slug: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: ProductRow) -> Product:
        """The GraphQL view of a products row."""
        return cls(
            id=strawberry.ID(str(row.id)),
            sku=row.sku,
            slug=row.slug,
            name=row.name,
            description=row.description,
            price=Money.of(row.price_amount, row.currency_code),
            image_url=row.image_url,
            created_at=row.created_at,
            updated_at=row.updated_at,
            category_slug=row.category_slug,
        )

    @strawberry.field
    async def category(
        self, info: Info
    ) -> Annotated[Category, strawberry.lazy("subgraphs.products.category")]:
        """The category the product is listed in."""
        from .category import category_by_slug

        found = await category_by_slug(info.context, self.category_slug)
        assert found is not None  # products.category_slug is a foreign key
        return found

    @classmethod
    async def resolve_reference(
        cls, info: Info, id: strawberry.ID | None = None, sku: str | None = None
    ) -> Product | None:
        """A product by either of its keys."""
        if id is not None:
            return await product_by_id(info.context, str(id))
        if sku is not None:
            return await product_by_sku(info.context, sku)
        return None


async def _rows_where_in(context: Context, column: Any, values: Sequence[Any]) -> list[ProductRow]:
    """Products whose `column` is one of `values`, IN_LIST_CHUNK values per statement."""
    rows: list[ProductRow] = []
    async with context.db.session() as session:
        for part in in_chunks(values):
            rows += (await session.scalars(select(ProductRow).where(column.in_(part)))).all()
    return rows


def _load_by(
    context: Context, column: Any, parse: Callable[[str], Any]
) -> Callable[[Sequence[str]], Any]:
    """A loader function answering keys of `column` (parsed by `parse`; None: no match)."""

    async def load(keys: Sequence[str]) -> list[Product | None]:
        parsed = [parse(key) for key in keys]
        wanted = list(dict.fromkeys(p for p in parsed if p is not None))
        rows = await _rows_where_in(context, column, wanted)
        found = {getattr(row, column.key): Product.from_row(row) for row in rows}
        return [found.get(p) if p is not None else None for p in parsed]

    return load


async def product_by_id(context: Context, product_id: str) -> Product | None:
    """The product with this id (None if unknown or not a UUID), batched per request."""
    load = _load_by(context, ProductRow.id, parse_uuid)
    return await context.loader("products_by_id", load).load(product_id)


async def product_by_sku(context: Context, sku: str) -> Product | None:
    """The product with this SKU, batched per request."""
    load = _load_by(context, ProductRow.sku, lambda key: key)
    return await context.loader("products_by_sku", load).load(sku)


async def product_by_slug(context: Context, slug: str) -> Product | None:
    """The product with this slug (case-insensitive), batched per request."""
    load = _load_by(context, ProductRow.slug, str.lower)
    return await context.loader("products_by_slug", load).load(slug)
