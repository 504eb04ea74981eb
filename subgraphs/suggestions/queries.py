"""The reads behind the two fields: SQL ranks the counts, scoring.py merges the rest.

Each function answers a whole request's batch (every product, category or user the
request asks about) in one statement per kind of read, whatever the number of fields:
`co_purchased` is a LATERAL top-N per product over the `co_purchases_ranked` index, the
category fallback reads the sales of every category involved at once, and the
recommendations read every user's purchases, their co-purchases and best sellers in
three statements.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import text

from subgraphs.common.database import Database

from . import scoring
from .catalogue import Catalogue

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
_BOUGHT_BY = text(
    "SELECT DISTINCT b.user_id::text, l.product_id::text FROM basket_lines l "
    "JOIN baskets b ON b.order_id = l.order_id "
    "WHERE b.user_id = ANY(CAST(:users AS uuid[])) AND b.counted"
)
# per user: the products most bought with theirs (:bought_users/:bought_products pair them)
_BOUGHT_WITH = text(
    "WITH bought AS (SELECT * FROM unnest(CAST(:bought_users AS uuid[]), "
    "CAST(:bought_products AS uuid[])) AS b(user_id, product_id)) "
    "SELECT u.id::text, t.other_id::text FROM unnest(CAST(:users AS uuid[])) AS u(id) "
    "CROSS JOIN LATERAL (SELECT c.other_id, sum(c.baskets) AS shared FROM co_purchases c "
    "JOIN bought b ON b.user_id = u.id AND b.product_id = c.product_id "
    "WHERE NOT EXISTS (SELECT 1 FROM bought x WHERE x.user_id = u.id "
    "AND x.product_id = c.other_id) "
    "GROUP BY c.other_id ORDER BY shared DESC, c.other_id LIMIT :first) t "
    "ORDER BY u.id, t.shared DESC, t.other_id"
)
# per user: every best seller outside their exclusions (:ex_users/:ex_products pair them)
# selling at least as much as the `rank`-th one
_NOT_EXCLUDED = (
    "NOT EXISTS (SELECT 1 FROM excluded e WHERE e.user_id = u.id AND e.product_id = {}.product_id)"
)
_BEST_SELLERS = text(
    "WITH excluded AS (SELECT * FROM unnest(CAST(:ex_users AS uuid[]), "
    "CAST(:ex_products AS uuid[])) AS e(user_id, product_id)) "
    "SELECT u.id::text, s.product_id::text, s.quantity "
    "FROM unnest(CAST(:users AS uuid[])) AS u(id) "
    "CROSS JOIN LATERAL (SELECT p.product_id, p.quantity FROM product_sales p "
    f"WHERE {_NOT_EXCLUDED.format('p')} AND p.quantity >= COALESCE((SELECT q.quantity "
    f"FROM product_sales q WHERE {_NOT_EXCLUDED.format('q')} "
    "ORDER BY q.quantity DESC LIMIT 1 OFFSET :rank - 1), 0) "
    "ORDER BY p.quantity DESC, p.product_id LIMIT :cap) s"
)


async def co_purchased(db: Database, products: Sequence[str], first: int) -> list[list[str]]:
    """Each product's `first` most co-purchased products, in the order of `products`."""
    found: dict[str, list[str]] = {p: [] for p in products}
    async with db.session() as session:
        result = await session.execute(_CO_PURCHASED, {"ids": list(found), "first": first})
        for product, other in result:
            found[product].append(other)
    return [found[p] for p in products]


async def category_best_sellers(
    db: Database, catalogue: Catalogue, products: Sequence[str]
) -> list[list[str]]:
    """The best sellers of each product's category (none if its category is not known),
    in the order of `products`: one statement for every category involved."""
    entries = await catalogue.lookup(products)
    categories = {entry.category for entry in entries.values()}
    members = {c: catalogue.category_members(c) for c in categories}
    everyone = [p for ids in members.values() for p in ids]
    async with db.session() as session:
        units = dict((await session.execute(_SALES_OF, {"ids": everyone})).tuples().all())
    names = catalogue.names(units)
    ranked = {
        c: scoring.rank_best_sellers({p: units[p] for p in ids if p in units}, names)
        for c, ids in members.items()
    }
    return [ranked[entries[p].category] if p in entries else [] for p in products]


def _pairs(per_user: Mapping[str, set[str]]) -> tuple[list[str], list[str]]:
    """{user: products} as two parallel arrays (users, products) for unnest()."""
    pairs = [(user, product) for user, products in per_user.items() for product in products]
    return [u for u, _ in pairs], [p for _, p in pairs]


async def bought_by(db: Database, users: Sequence[str]) -> dict[str, set[str]]:
    """The products each of `users` bought (counted baskets)."""
    found: dict[str, set[str]] = {u: set() for u in users}
    async with db.session() as session:
        for user, product in await session.execute(_BOUGHT_BY, {"users": list(found)}):
            found[user].add(product)
    return found


async def bought_with(
    db: Database, bought: Mapping[str, set[str]], first: int
) -> dict[str, list[str]]:
    """Per user: the products most bought together with theirs, none of them, at most
    `first`."""
    found: dict[str, list[str]] = {u: [] for u in bought}
    bought_users, bought_products = _pairs(bought)
    params = {
        "users": list(found),
        "bought_users": bought_users,
        "bought_products": bought_products,
        "first": first,
    }
    async with db.session() as session:
        for user, other in await session.execute(_BOUGHT_WITH, params):
            found[user].append(other)
    return found


async def best_sellers(
    db: Database, catalogue: Catalogue, exclude: Mapping[str, set[str]], first: int
) -> dict[str, list[str]]:
    """Per user: the shop's `first` best sellers outside their `exclude` (ties by name,
    then id)."""
    ex_users, ex_products = _pairs(exclude)
    params = {
        "users": list(exclude),
        "ex_users": ex_users,
        "ex_products": ex_products,
        "rank": first,
        "cap": BEST_SELLER_CAP,
    }
    units: dict[str, dict[str, int]] = {u: {} for u in exclude}
    async with db.session() as session:
        for user, product, quantity in await session.execute(_BEST_SELLERS, params):
            units[user][product] = quantity
    every = {p for sold in units.values() for p in sold}
    names = catalogue.names(every)
    if len(names) < len(every):
        names = {i: e.name for i, e in (await catalogue.lookup(list(every))).items()}
    return {u: scoring.rank_best_sellers(sold, names)[:first] for u, sold in units.items()}
