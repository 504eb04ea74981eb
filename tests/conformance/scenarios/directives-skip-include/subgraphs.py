"""Headphones and their reviews, for @skip / @include across a subgraph boundary."""

from tests.conformance.kit import Resolvers

PRODUCTS = {
    "h1": {"name": "Studio One", "priceCents": 19900, "brand": ("Sonora", "DK")},
    "h2": {"name": "Commuter", "priceCents": 8900, "brand": None},
}
REVIEWS = {"h1": [(5, "ines"), (4, "omar")], "h2": [(3, "li")]}


def _product(product_id: str) -> dict | None:
    row = PRODUCTS.get(product_id)
    if row is None:
        return None
    brand = row["brand"]
    return {"__typename": "Product", "id": product_id, "name": row["name"],
            "priceCents": row["priceCents"],
            "brand": brand and {"name": brand[0], "country": brand[1]}}


def _reviewed(rep: dict) -> dict | None:
    reviews = REVIEWS.get(rep["id"])
    if reviews is None:
        return None
    return {"id": rep["id"], "rating": sum(s for s, _ in reviews) / len(reviews),
            "reviews": [{"stars": stars, "author": author} for stars, author in reviews]}


SUBGRAPHS = {
    "products": Resolvers(
        query={
            "products": lambda info: [_product(key) for key in PRODUCTS],
            "product": lambda info, id: _product(id),
        },
        entities={"Product": lambda rep: _product(rep["id"])},
    ),
    "reviews": Resolvers(entities={"Product": _reviewed}),
}
