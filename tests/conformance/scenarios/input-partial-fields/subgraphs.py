"""Pagination input shared by two subgraphs that each added one field of their own.

products' `PageInput` has `cursor`, reviews' has `includeHidden`; neither is in
the supergraph, which keeps only the fields both define.
"""

from tests.conformance.kit import Resolvers

PRODUCTS = [
    {"id": "p1", "name": "Kettle", "priceCents": 3400},
    {"id": "p2", "name": "Toaster", "priceCents": 2900},
    {"id": "p3", "name": "Blender", "priceCents": 8900},
    {"id": "p4", "name": "Grinder", "priceCents": 5600},
]
REVIEWS = [
    {"id": "r1", "stars": 4, "product": "p1"},
    {"id": "r2", "stars": 2, "product": "p3"},
    {"id": "r3", "stars": 5, "product": "p1"},
    {"id": "r4", "stars": 3, "product": "p4"},
    {"id": "r5", "stars": 1, "product": "p1"},
]


def _page(rows: list, page: dict | None) -> list:
    page = page or {"first": 10, "offset": 0}
    return rows[page["offset"]: page["offset"] + page["first"]]


def _products(info, page: dict | None = None, filter: dict | None = None) -> list[dict]:
    low = (filter or {}).get("minCents")
    high = (filter or {}).get("maxCents")
    rows = [
        row for row in PRODUCTS
        if (low is None or row["priceCents"] >= low) and (high is None or row["priceCents"] <= high)
    ]
    return _page(rows, page)


def _review(row: dict) -> dict:
    return {"id": row["id"], "stars": row["stars"], "product": {"id": row["product"]}}


def _product_reviews(obj: dict, info, page: dict) -> list[dict]:
    return _page([_review(row) for row in REVIEWS if row["product"] == obj["id"]], page)


SUBGRAPHS = {
    "products": Resolvers(
        query={"products": _products},
        entities={"Product": lambda rep: next(
            (row for row in PRODUCTS if row["id"] == rep["id"]), None)},
    ),
    "reviews": Resolvers(
        query={"reviews": lambda info, page=None: _page([_review(row) for row in REVIEWS], page)},
        fields={"Product": {"reviews": _product_reviews}},
    ),
}
