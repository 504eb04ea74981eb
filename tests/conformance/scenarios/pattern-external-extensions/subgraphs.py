"""Extensions of `Product` in every style: Fed1 `extend type` (stock, reviews, the latter
with @requires), Fed2 `@extends` with an external key (pricing), and the Fed2 owner.
"""

from tests.conformance.kit import Resolvers

PRODUCTS = {"u1": "Lamp", "u2": "Rug", "u3": "Vase"}
IN_STOCK = {"u1": True, "u2": False, "u3": True}
PRICES = {"u1": 45, "u2": 120, "u3": 30}


def _headline(rep: dict) -> dict:
    if "name" not in rep:
        raise ValueError("headline needs name")
    return {"upc": rep["upc"], "headline": f"Readers love the {rep['name']}"}


SUBGRAPHS = {
    "catalog": Resolvers(
        query={"products": lambda info: [{"upc": u, "name": n} for u, n in PRODUCTS.items()]},
        entities={
            "Product": lambda rep: (
                {"upc": rep["upc"], "name": PRODUCTS[rep["upc"]]}
                if rep["upc"] in PRODUCTS
                else None
            )
        },
    ),
    "stock": Resolvers(
        query={"restocked": lambda info: [{"upc": "u3", "inStock": True}, None]},
        entities={"Product": lambda rep: {"upc": rep["upc"], "inStock": IN_STOCK[rep["upc"]]}},
    ),
    "pricing": Resolvers(
        query={
            "cheapest": lambda info: {
                "upc": min(PRICES, key=PRICES.get),
                "price": min(PRICES.values()),
            }
        },
        entities={"Product": lambda rep: {"upc": rep["upc"], "price": PRICES[rep["upc"]]}},
    ),
    "reviews": Resolvers(entities={"Product": _headline}),
}
