"""Book prices moved from the catalog to a pricing subgraph; magazine prices did not.

The catalog still answers book prices with its old list price (always 9999),
so a book price coming from the catalog is visibly wrong.
"""

from tests.conformance.kit import Resolvers

PUBLICATIONS = [
    {"__typename": "Book", "id": "b1", "title": "Dune", "isbn": "978-0441013593"},
    {"__typename": "Magazine", "id": "m1", "title": "Wired", "priceCents": 799, "issue": 42},
    {"__typename": "Book", "id": "b2", "title": "Neuromancer", "isbn": "978-0441569595"},
    {"__typename": "Magazine", "id": "m2", "title": "The Atlantic", "priceCents": 899, "issue": 7},
]
BOOK_PRICES = {"b1": (1899, 0), "b2": (1299, 25)}


def _catalog(pub_id: str) -> dict | None:
    for row in PUBLICATIONS:
        if row["id"] == pub_id:
            stale = {"priceCents": 9999} if row["__typename"] == "Book" else {}
            return {**row, **stale}
    return None


def _pricing_book(book_id: str) -> dict | None:
    if book_id not in BOOK_PRICES:
        return None
    price, discount = BOOK_PRICES[book_id]
    return {"id": book_id, "priceCents": price, "discountPercent": discount}


SUBGRAPHS = {
    "catalog": Resolvers(
        query={
            "publications": lambda info: [_catalog(row["id"]) for row in PUBLICATIONS],
            "publication": lambda info, id: _catalog(id),
        },
        entities={
            "Book": lambda rep: _catalog(rep["id"]),
            "Magazine": lambda rep: _catalog(rep["id"]),
        },
    ),
    "pricing": Resolvers(
        query={
            "onSale": lambda info: [
                _pricing_book(key) for key, (_, discount) in BOOK_PRICES.items() if discount
            ]
        },
        entities={"Book": lambda rep: _pricing_book(rep["id"])},
    ),
}
