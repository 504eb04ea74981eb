"""The catalogue as a list: filters, sorts and the Relay connection of products.

Sorting: NAME_ASC, NAME_DESC, PRICE_ASC, PRICE_DESC, NEWEST and RELEVANCE
(full-text rank, best first). Without a `sort`, a search is ranked by RELEVANCE
and anything else is NAME_ASC. RELEVANCE without `filter.search` is
BAD_USER_INPUT: there is nothing to rank by. Every order ends with the id (and
RELEVANCE with the name, then the id) so keyset cursors are stable; a cursor of
one sort (or of another search's RELEVANCE) is refused by another.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, cast

import strawberry
from sqlalchemy import ColumnElement, Uuid, any_, bindparam, func, literal, not_, select
from sqlalchemy.dialects.postgresql import ARRAY, REAL

from subgraphs.common.context import Context
from subgraphs.common.errors import BadUserInput
from subgraphs.common.inputs import max_length
from subgraphs.common.pagination import (
    Connection,
    Ordering,
    PageArgs,
    PageQuery,
    SortKey,
    build_connection,
    load_page,
    page_window,
)
from subgraphs.common.types import check_decimal

from . import search
from .availability import AvailabilityClient
from .models import CATEGORY_SLUG_LENGTH, ProductRow
from .product import Product

SEARCH_LENGTH = 200
PRODUCTS_DESCRIPTION = (
    "Products, filtered and sorted, paged forward (`first`/`after`) or backward "
    "(`last`/`before`); `first` and `last` are at most 100 and not both given (neither: "
    "the first 20). `sort` defaults to RELEVANCE when `filter.search` is given, else "
    "NAME_ASC; RELEVANCE needs `filter.search`. Null with an error when the list cannot be "
    "given: SERVICE_UNAVAILABLE when `filter.inStock` is given and stock levels cannot be "
    "read, BAD_USER_INPUT for arguments it refuses; the rest of the query still answers."
)


@strawberry.enum(description="The order of a product list; every one ends with the id.")
class ProductSort(Enum):
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"
    PRICE_ASC = "PRICE_ASC"
    PRICE_DESC = "PRICE_DESC"
    NEWEST = strawberry.enum_value("NEWEST", description="Most recently created first.")
    RELEVANCE = strawberry.enum_value(
        "RELEVANCE", description="Best full-text match of `filter.search` first."
    )


# Search texts and slugs are compared with stored values of bounded length: anything
# longer cannot match, so it is refused before it costs a scan.
@strawberry.input(description="Every given condition must hold.")
class ProductFilter:
    search: str | None = strawberry.field(
        default=None,
        description="Words to find in the name or description, in any case and with or "
        "without accents; every word must match, the last one also as a prefix "
        '("earl gr" finds "Earl Grey"). A text without letters or digits matches everything.',
        metadata=max_length(SEARCH_LENGTH),
    )
    category_slug: str | None = strawberry.field(
        default=None,
        description="Only this category (slug, case-insensitive).",
        metadata=max_length(CATEGORY_SLUG_LENGTH),
    )
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool | None = strawberry.field(
        default=None,
        description="true: only products with available units; false: only those without. "
        "Fails with SERVICE_UNAVAILABLE if stock levels cannot be read.",
    )


def _cursor_price(value: str) -> Decimal:
    """A price read back from a cursor: never negative, as no catalogue price is."""
    price = Decimal(value)
    if price.is_signed():
        raise ValueError("a negative price")
    return price


_ID = SortKey(ProductRow.id, decode=uuid.UUID)
_NAME = SortKey(ProductRow.name)
_PRICE = SortKey(ProductRow.price_amount, decode=_cursor_price)
_CREATED = SortKey(
    ProductRow.created_at, True, encode=datetime.isoformat, decode=datetime.fromisoformat
)
COLUMN_ORDERINGS: dict[ProductSort, tuple[SortKey, ...]] = {
    ProductSort.NAME_ASC: (_NAME, _ID),
    ProductSort.NAME_DESC: (_NAME.flipped(), _ID.flipped()),
    ProductSort.PRICE_ASC: (_PRICE, _ID),
    ProductSort.PRICE_DESC: (_PRICE.flipped(), _ID),
    ProductSort.NEWEST: (_CREATED, _ID),
}


@dataclass(frozen=True)
class SortPlan:
    """An ordering, the columns its page selects, a row's sort values for its cursor, and
    the names of the keys' columns in the page's select (to order a subquery of it)."""

    ordering: Ordering
    columns: tuple[Any, ...]
    values: Callable[[Any], Sequence[Any]]
    names: tuple[str, ...]


def _column_sort(sort: ProductSort) -> SortPlan:
    keys = COLUMN_ORDERINGS[sort]
    names = tuple(key.column.key for key in keys)
    return SortPlan(
        Ordering(sort.value, keys),
        (ProductRow,),
        lambda row: [getattr(row[0], name) for name in names],
        names,
    )


def _relevance_sort(words: list[str]) -> SortPlan:
    rank = search.rank(words) if words else literal(0.0, REAL)
    keys = (SortKey(rank, True, encode=repr, decode=search.decode_rank), _NAME, _ID)
    # A rank only orders the search it was computed for: the name binds the cursor to it.
    digest = hashlib.sha256(" ".join(words).encode()).hexdigest()[:16]
    return SortPlan(
        Ordering(f"RELEVANCE:{digest}", keys),
        (ProductRow, rank.label("rank")),
        lambda row: [row[1], row[0].name, row[0].id],
        ("rank", "name", "id"),
    )


def sort_plan(sort: ProductSort | None, where: ProductFilter | None) -> SortPlan:
    """How to order the list; BadUserInput for RELEVANCE without a search."""
    text = where.search if where is not None else None
    if sort is None:
        sort = ProductSort.RELEVANCE if text else ProductSort.NAME_ASC
    if sort is not ProductSort.RELEVANCE:
        return _column_sort(sort)
    if text is None:
        raise BadUserInput("`sort: RELEVANCE` needs `filter.search`", field=["sort"])
    return _relevance_sort(search.search_words(text))


def check_filter(where: ProductFilter | None) -> None:
    """BadUserInput for a price bound NUMERIC(12, 2) cannot hold (PostgreSQL would fail)."""
    if where is not None:
        check_decimal(where.min_price, ["filter", "minPrice"])
        check_decimal(where.max_price, ["filter", "maxPrice"])


async def _in_stock(context: Context, wanted: bool) -> ColumnElement[bool]:
    client = cast(AvailabilityClient, context.services.availability)

    async def load(keys: Sequence[str]) -> list[list[uuid.UUID]]:
        found = await client.in_stock_ids()
        return [found for _ in keys]

    # Asked once per request, however many lists (categories, aliases) filter on it.
    in_stock = await context.loader("in_stock_ids", load).load("all")
    ids = bindparam("in_stock_ids", in_stock, type_=ARRAY(Uuid()))
    condition = ProductRow.id == any_(ids)
    return condition if wanted else not_(condition)


async def conditions(context: Context, where: ProductFilter | None) -> list[ColumnElement[bool]]:
    """The WHERE conditions of a filter."""
    found: list[ColumnElement[bool]] = []
    if where is None:
        return found
    if where.category_slug is not None:
        found.append(ProductRow.category_slug == where.category_slug.strip().lower())
    words = search.search_words(where.search or "")
    if words:
        found.append(search.matches(words))
    if where.min_price is not None:
        found.append(ProductRow.price_amount >= where.min_price)
    if where.max_price is not None:
        found.append(ProductRow.price_amount <= where.max_price)
    if where.in_stock is not None:
        found.append(await _in_stock(context, where.in_stock))
    return found


async def product_connection(
    context: Context,
    args: PageArgs,
    where: ProductFilter | None,
    sort: ProductSort | None,
) -> Connection[Product]:
    """A page of products; every argument is checked before any SQL or upstream call."""
    check_filter(where)
    plan = sort_plan(sort, where)
    window = page_window(args, plan.ordering)
    found = await conditions(context, where)
    query = PageQuery(select(*plan.columns).where(*found), plan.ordering, window)
    db = context.db
    async with db.session() as session:
        page = await load_page(session, query, whole_rows=True)

    async def count() -> int:
        async with db.session() as session:
            total = await session.scalar(select(func.count(ProductRow.id)).where(*found))
        return int(total or 0)

    return build_connection(
        page, plan.ordering, plan.values, lambda row: Product.from_row(row[0]), count
    )
