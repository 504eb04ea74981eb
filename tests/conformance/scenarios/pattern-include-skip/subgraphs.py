"""Conditional selections over an entity with a two-subgraph requirement."""

from tests.conformance.kit import Resolvers

PRODUCTS = {"p1": ("Anvil", 9000, 50000), "p2": ("Feather", 300, 5)}
STOCK = {"p1": 3, "p2": 120}


def _delivery(rep: dict) -> dict:
    out = {"id": rep["id"]}
    if "weightGrams" in rep:
        out["isHeavy"] = rep["weightGrams"] > 10000
        if "price" in rep:
            out["shippingCost"] = (
                500 + rep["weightGrams"] // 100 - (200 if rep["price"] > 5000 else 0)
            )
    return out


SUBGRAPHS = {
    "products": Resolvers(
        query={
            "products": lambda info: [
                {"id": i, "name": n, "price": p} for i, (n, p, _w) in PRODUCTS.items()
            ]
        },
        entities={
            "Product": lambda rep: {
                "id": rep["id"],
                "name": PRODUCTS[rep["id"]][0],
                "price": PRODUCTS[rep["id"]][1],
            }
        },
    ),
    "warehouse": Resolvers(
        entities={
            "Product": lambda rep: {
                "id": rep["id"],
                "weightGrams": PRODUCTS[rep["id"]][2],
                "stock": STOCK[rep["id"]],
            }
        }
    ),
    "delivery": Resolvers(entities={"Product": _delivery}),
}
