"""The Category entity: lookups by slug, product counts, its products connection."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated

import strawberry
from sqlalchemy import func, select

from subgraphs.common.context import Context
from subgraphs.common.entities import in_chunks
from subgraphs.common.inputs import max_length
from subgraphs.common.pagination import Connection, PageArgs

from . import listing
from .category_pages import category_products
from .listing import ProductFilter, ProductSort
from .models import CATEGORY_SLUG_LENGTH, CategoryRow, ProductRow
from .product import Product

Info = strawberry.Info[Context, None]
SlugArgument = Annotated[str, strawberry.argument(metadata=max_length(CATEGORY_SLUG_LENGTH))]


@strawberry.federation.type(keys=["slug"], description="A shelf of the catalogue.")
class Category:
    """A category of products, identified by its slug."""

    slug: str = strawberry.field(description="Lower-case URL name, e.g. `tea`.")
    name: str

    @classmethod
    def from_row(cls, row: CategoryRow) -> Category:
        """The GraphQL view of a categories row."""
        return cls(slug=row.slug, name=row.name)

    @classmethod
    async def resolve_reference(cls, info: Info, slug: str) -> Category | None:
        """A category by its slug."""
        return await category_by_slug(info.context, slug)

    @strawberry.field(description="How many products the category has.")
    async def product_count(self, info: Info) -> int:
        """Counted for every category of the request in one grouped statement."""
        return await info.context.loader("category_product_counts", _counts(info.context)).load(
            self.slug
        )

    @strawberry.field(description=listing.PRODUCTS_DESCRIPTION)
    async def products(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: ProductFilter | None = None,
        sort: ProductSort | None = None,
    ) -> Connection[Product] | None:
        """This category's products, filtered, sorted and paged like `Query.products`."""
        args = PageArgs(first, after, last, before)
        return await category_products(info.context, self.slug, args, filter, sort)


def _counts(context: Context) -> Callable[[Sequence[str]], Awaitable[list[int]]]:
    """The loader function: product counts of many categories in one grouped statement."""

    async def load(slugs: Sequence[str]) -> list[int]:
        counts: dict[str, int] = {}
        async with context.db.session() as session:
            for part in in_chunks(list(dict.fromkeys(slugs))):
                stmt = (
                    select(ProductRow.category_slug, func.count(ProductRow.id))
                    .where(ProductRow.category_slug.in_(part))
                    .group_by(ProductRow.category_slug)
                )
                counts.update((slug, count) for slug, count in (await session.execute(stmt)).all())
        return [counts.get(slug, 0) for slug in slugs]

    return load


async def category_by_slug(context: Context, slug: str) -> Category | None:
    """The category with this slug (case-insensitive), batched per request."""

    async def load(slugs: Sequence[str]) -> list[Category | None]:
        wanted = list(dict.fromkeys(slugs))
        found: dict[str, Category] = {}
        async with context.db.session() as session:
            for part in in_chunks(wanted):
                stmt = select(CategoryRow).where(CategoryRow.slug.in_(part))
                found.update((r.slug, Category.from_row(r)) for r in await session.scalars(stmt))
        return [found.get(slug) for slug in slugs]

    return await context.loader("categories_by_slug", load).load(slug.strip().lower())


async def all_categories(context: Context) -> list[Category]:
    """Every category, alphabetically by name."""
    async with context.db.session() as session:
        rows = await session.scalars(select(CategoryRow).order_by(CategoryRow.name))
        return [Category.from_row(row) for row in rows]
