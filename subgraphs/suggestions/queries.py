"""The reads behind the two fields: SQL ranks the counts, scoring.py merges the rest.

`co_purchased` answers a whole `_entities` batch in one statement (a LATERAL top-N
per product over the `co_purchases_ranked` index).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import func, select, text

from subgraphs.common.database import Database

from . import scoring
from .catalogue import Catalogue
from .models import BasketLineRow, BasketRow, CoPurchaseRow

# how many tied best sellers one answer considers at most (ties are broken by name)
BEST_SELLER_CAP = 500

_CO_PURCHASED = text(
    "SELECT p.id::text AS product, c.other_id::text AS other "
    "FROM unnest(CAST(:ids AS uuid[])) WITH ORDINALITY AS p(id, n) "
    "CROSS JOIN LATERAL (SELECT other_id, baskets FROM co_purchases "
    "WHERE product_id = p.id ORDER BY baskets DESC, other_id LIMIT :first) c "
    "ORDER BY p.n, c.baskets DESC, c.other_id"
)
_SALES_OF = text(
    "SELECT product_id::text, quantity FROM product_sales "
    "WHERE product_id = ANY(CAST(:ids AS uuid[]))"
)
# every best seller selling at least as much as the `rank`-th one not excluded
_BEST_SELLERS = text(
    "WITH candidates AS (SELECT product_id, quantity FROM product_sales "
    "WHERE product_id <> ALL(CAST(:exclude AS uuid[]))) "
    "SELECT product_id::text, quantity FROM candidates WHERE quantity >= COALESCE("
    "(SELECT quantity FROM candidates ORDER BY quantity DESC LIMIT 1 OFFSET :rank - 1), 0) "
    "ORDER BY quantity DESC, product_id LIMIT :cap"
)


async def co_purchased(db: Database, products: Sequence[str], first: int) -> list[list[str]]:
    """Each product's `first` most co-purchased products, in the order of `products`."""
    found: dict[str, list[str]] = {p: [] for p in products}
    async with db.session() as session:
        result = await session.execute(_CO_PURCHASED, {"ids": list(found), "first": first})
        for product, other in result:
            found[product].append(other)
    return [found[p] for p in products]


async def category_best_sellers(db: Database, catalogue: Catalogue, product: str) -> list[str]:
    """The best sellers of `product`'s category (none if its category is not known)."""
    entry = (await catalogue.lookup([product])).get(product)
    if entry is None:
        return []
    members = catalogue.category_members(entry.category)
    async with db.session() as session:
        units = dict((await session.execute(_SALES_OF, {"ids": members})).tuples().all())
    return scoring.rank_best_sellers(units, catalogue.names(units))


async def bought_by(db: Database, user: uuid.UUID) -> set[str]:
    """The products `user` bought (counted baskets)."""
    statement = (
        select(BasketLineRow.product_id)
        .distinct()
        .join(BasketRow, BasketRow.order_id == BasketLineRow.order_id)
        .where(BasketRow.user_id == user, BasketRow.counted)
    )
    async with db.session() as session:
        return {str(product) for product in await session.scalars(statement)}


async def bought_with(db: Database, bought: Collection[str], first: int) -> list[str]:
    """The products most bought together with `bought`, none of them, at most `first`."""
    if not bought:
        return []
    ids = [uuid.UUID(p) for p in bought]
    pair = CoPurchaseRow
    statement = (
        select(pair.other_id)
        .where(pair.product_id.in_(ids), pair.other_id.not_in(ids))
        .group_by(pair.other_id)
        .order_by(func.sum(pair.baskets).desc(), pair.other_id)
        .limit(first)
    )
    async with db.session() as session:
        return [str(other) for other in await session.scalars(statement)]


async def best_sellers(
    db: Database, catalogue: Catalogue, exclude: Collection[str], first: int
) -> list[str]:
    """The shop's `first` best sellers outside `exclude` (ties by name, then id)."""
    params = {"exclude": list(exclude), "rank": first, "cap": BEST_SELLER_CAP}
    async with db.session() as session:
        units = dict((await session.execute(_BEST_SELLERS, params)).tuples().all())
    names = catalogue.names(units)
    if len(names) < len(units):
        names = {i: e.name for i, e in (await catalogue.lookup(list(units))).items()}
    return scoring.rank_best_sellers(units, names)[:first]
