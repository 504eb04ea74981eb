from tests.conformance.kit import Resolvers

PRODUCTS = [
    {"upc": "p1", "name": "Armchair", "price": 24900, "weight": 12000},
    {"upc": "p2", "name": "Mug", "price": 900, "weight": 350},
    {"upc": "p3", "name": "Rug", "price": 15000, "weight": 4000},
]
BY_UPC = {p["upc"]: p for p in PRODUCTS}
FREE_FROM = 15000


def shipping(rep: dict) -> dict:
    """Cost depends on the required price and weight, which only the products subgraph owns."""
    out: dict = {"upc": rep["upc"]}
    if "price" in rep:
        out["freeShipping"] = rep["price"] >= FREE_FROM
        if "weight" in rep:
            out["shippingCost"] = 0 if out["freeShipping"] else 300 + rep["weight"] // 10
    return out


SUBGRAPHS = {
    "products": Resolvers(
        query={"products": lambda info: PRODUCTS, "product": lambda info, upc: BY_UPC.get(upc)},
        entities={"Product": lambda rep: BY_UPC.get(rep["upc"])},
    ),
    "shipping": Resolvers(
        query={"cheapestToShip": lambda info: {"upc": "p2"}},
        entities={"Product": shipping},
    ),
}
