"""Category.products for many categories at once.

A storefront's menu asks every category for a few products, and Strawberry
resolves `Category.products` once per category; these loaders answer all of a
request's calls together, like User.orders: one LATERAL keyset scan per
distinct request shape (page arguments, filter, sort) for all its categories,
one statement per side check a shape needs (paging from a cursor), and one
grouped COUNT per distinct filter when `totalCount` is asked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, String, bindparam, exists, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from subgraphs.common.context import Context
from subgraphs.common.pagination import (
    Connection,
    Page,
    PageArgs,
    PageQuery,
    PageWindow,
    build_connection,
    page_of,
    page_window,
)

from .listing import ProductFilter, ProductSort, SortPlan, check_filter, conditions, sort_plan
from .models import ProductRow
from .product import Product


def _filter_key(where: ProductFilter | None) -> tuple[Any, ...]:
    if where is None:
        return ()
    return (where.search, where.category_slug, where.min_price, where.max_price, where.in_stock)


@dataclass(frozen=True)
class Shape:
    """What a category's list depends on besides the category (the filter by value)."""

    args: PageArgs
    sort: ProductSort | None
    filter_key: tuple[Any, ...]
    where: ProductFilter | None = field(compare=False, hash=False)


@dataclass(frozen=True)
class CategoryPage:
    """One category's list as the field was asked for (arguments already checked)."""

    slug: str
    shape: Shape


def _wanted(slugs: Sequence[str]) -> Any:
    """The categories as one `text[]` parameter: the SQL text is the same for any number."""
    array = bindparam("slugs", sorted(set(slugs)), type_=ARRAY(String()))
    return func.unnest(array).table_valued("slug").render_derived("wanted")


def _pages_statement(
    slugs: Sequence[str], plan: SortPlan, query: PageQuery, found: list[ColumnElement[bool]]
) -> Select[Any]:
    """Each category's rows (one more than the page) in travel order, category by category."""
    wanted = _wanted(slugs)
    inner = select(*plan.columns).where(ProductRow.category_slug == wanted.c.slug, *found)
    rows = PageQuery(inner, query.ordering, query.window).statement().lateral("page")
    columns = [aliased(ProductRow, rows), *([rows.c.rank] if len(plan.columns) > 1 else [])]
    travel = [
        rows.c[name].desc() if key.descending else rows.c[name].asc()
        for name, key in zip(plan.names, query.travel, strict=True)
    ]
    return select(*columns).select_from(wanted).join(rows, true()).order_by(wanted.c.slug, *travel)


async def _categories_with(
    session: AsyncSession,
    slugs: Sequence[str],
    found: list[ColumnElement[bool]],
    condition: ColumnElement[bool] | None,
) -> set[str]:
    """The categories having a product that passes the filter and `condition`."""
    if condition is None:
        return set()
    wanted = _wanted(slugs)
    theirs = select(ProductRow.id).where(
        ProductRow.category_slug == wanted.c.slug, *found, condition
    )
    return set(await session.scalars(select(wanted.c.slug).where(exists(theirs))))


async def _shape_pages(
    context: Context, session: AsyncSession, shape: Shape, slugs: Sequence[str]
) -> dict[str, Page[Any]]:
    plan = sort_plan(shape.sort, shape.where)
    window: PageWindow = page_window(shape.args, plan.ordering)
    found = await conditions(context, shape.where)
    query = PageQuery(select(ProductRow), plan.ordering, window)
    fetched: dict[str, list[Any]] = defaultdict(list)
    for row in (await session.execute(_pages_statement(slugs, plan, query, found))).all():
        fetched[row[0].category_slug].append(row)
    behind = await _categories_with(session, slugs, found, query.behind())
    past_stop = await _categories_with(session, slugs, found, query.past_stop())
    return {
        slug: page_of(window, fetched[slug], slug in behind, slug in past_stop) for slug in slugs
    }


def _pages(context: Context) -> Callable[[Sequence[CategoryPage]], Awaitable[list[Page[Any]]]]:
    async def load(requests: Sequence[CategoryPage]) -> list[Page[Any]]:
        by_shape: dict[Shape, list[str]] = defaultdict(list)
        for request in requests:
            by_shape[request.shape].append(request.slug)
        pages: dict[tuple[Shape, str], Page[Any]] = {}
        async with context.db.session() as session:
            for shape, slugs in by_shape.items():
                for slug, page in (await _shape_pages(context, session, shape, slugs)).items():
                    pages[shape, slug] = page
        return [pages[request.shape, request.slug] for request in requests]

    return load


def _counts(context: Context) -> Callable[[Sequence[CategoryPage]], Awaitable[list[int]]]:
    async def load(requests: Sequence[CategoryPage]) -> list[int]:
        by_filter: dict[tuple[Any, ...], list[CategoryPage]] = defaultdict(list)
        for request in requests:
            by_filter[request.shape.filter_key].append(request)
        counts: dict[tuple[tuple[Any, ...], str], int] = {}
        async with context.db.session() as session:
            for key, group in by_filter.items():
                found = await conditions(context, group[0].shape.where)
                slugs = sorted({request.slug for request in group})
                stmt = (
                    select(ProductRow.category_slug, func.count(ProductRow.id))
                    .where(ProductRow.category_slug.in_(slugs), *found)
                    .group_by(ProductRow.category_slug)
                )
                for slug, count in (await session.execute(stmt)).all():
                    counts[key, slug] = count
        return [counts.get((r.shape.filter_key, r.slug), 0) for r in requests]

    return load


async def category_products(
    context: Context,
    slug: str,
    args: PageArgs,
    where: ProductFilter | None,
    sort: ProductSort | None,
) -> Connection[Product]:
    """One category's page of products through the request's loaders."""
    check_filter(where)
    plan = sort_plan(sort, where)
    page_window(args, plan.ordering)  # bad arguments fail this field, not the batch
    request = CategoryPage(slug, Shape(args, sort, _filter_key(where), where))
    page = await context.loader("category_product_pages", _pages(context)).load(request)

    async def count() -> int:
        return await context.loader("category_product_totals", _counts(context)).load(request)

    return build_connection(
        page, plan.ordering, plan.values, lambda row: Product.from_row(row[0]), count
    )
