"""The static data behind the benchmark subgraphs.

Deterministic and held in memory, sized so the heavy query returns roughly
90 KB: every user writes a few reviews, the reviews cover the first few
products, so each product is reviewed by several users and the nested
`product { reviews { author { reviews } } }` levels fan out into a few hundred
objects. The catalogue itself is much larger so that `topProducts(first:
100000)` makes the products subgraph answer with ~8 MB (the big-response case).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import orjson

USER_COUNT = 8
REVIEWS_PER_USER = 3
REVIEWED_PRODUCTS = 6  # the first products of the catalogue; topProducts' default 5 among them
CATALOGUE_SIZE = 100_000
# topProducts(first: N) beyond the catalogue: the products subgraph answers a plain
# selection of product scalars from `product(i)` up to this many (the 50 MB case)
BIG_CATALOGUE_SIZE = 2_000_000
PRODUCT_SCALARS = ("upc", "name", "price", "weight")

_ADJECTIVES = ("Sturdy", "Compact", "Elegant", "Rustic", "Modern", "Classic", "Portable", "Quiet")
_NOUNS = ("Table", "Couch", "Chair", "Lamp", "Desk", "Shelf", "Stool", "Bench", "Cabinet")
_VERDICTS = (
    "Love it, would buy again.",
    "Too expensive for what it is.",
    "Could be better; the finish scratches easily.",
    "Prefer something else, but it does the job.",
    "Arrived quickly and was easy to assemble.",
)


@dataclass(frozen=True, slots=True)
class Data:
    users: dict[str, dict]  # id -> {"id", "name", "username", "birthday"}
    products: dict[str, dict]  # upc -> {"upc", "name", "price", "weight"}
    top_products: list[dict]  # the catalogue in order
    reviews: dict[str, dict]  # id -> {"id", "body", "product_upc", "author_id"}
    reviews_by_user: dict[str, list[dict]]
    reviews_by_product: dict[str, list[dict]]


def in_stock(upc: str) -> bool:
    return int(upc) % 3 != 0


def shipping_estimate(price: int | None, weight: int | None) -> int | None:
    """Free shipping above 1000, else half the weight (the classic demo rule)."""
    if price is None or weight is None:
        return None
    return 0 if price > 1000 else weight // 2


def product(i: int) -> dict:
    """The catalogue's i-th product (from 1): a pure function of i."""
    return {
        "upc": str(i),
        "name": f"{_ADJECTIVES[i % len(_ADJECTIVES)]} {_NOUNS[i % len(_NOUNS)]} model {i:06d}",
        "price": 100 + (i * 379) % 1900,
        "weight": 10 + (i * 53) % 990,
    }


def product_rows(first: int, fields: tuple[str, ...], block: int = 20_000) -> Iterator[bytes]:
    """The JSON items of `topProducts(first:)` selecting `fields` (product scalars and
    __typename), `block` products at a time, each block as `a,b,...` (no brackets)."""
    first = min(max(first, 0), BIG_CATALOGUE_SIZE)
    for start in range(1, first + 1, block):
        rows = []
        for i in range(start, min(start + block, first + 1)):
            p = product(i)
            rows.append({f: ("Product" if f == "__typename" else p[f]) for f in fields})
        yield orjson.dumps(rows)[1:-1]


@cache
def data() -> Data:
    users = {
        str(i): {
            "id": str(i),
            "name": f"User Number {i}",
            "username": f"@user{i}",
            "birthday": 1_000_000_000 + i * 86_400 * 97,
        }
        for i in range(1, USER_COUNT + 1)
    }
    top_products = [product(i) for i in range(1, CATALOGUE_SIZE + 1)]
    products = {p["upc"]: p for p in top_products}
    reviews: dict[str, dict] = {}
    reviews_by_user: dict[str, list[dict]] = {uid: [] for uid in users}
    reviews_by_product: dict[str, list[dict]] = {}
    for user_index, user_id in enumerate(users):
        for k in range(REVIEWS_PER_USER):
            review_id = str(len(reviews) + 1)
            upc = str((user_index * REVIEWS_PER_USER + k) % REVIEWED_PRODUCTS + 1)
            review = {
                "id": review_id,
                "body": f"{_VERDICTS[int(review_id) % len(_VERDICTS)]} (review {review_id})",
                "product_upc": upc,
                "author_id": user_id,
            }
            reviews[review_id] = review
            reviews_by_user[user_id].append(review)
            reviews_by_product.setdefault(upc, []).append(review)
    return Data(users, products, top_products, reviews, reviews_by_user, reviews_by_product)
