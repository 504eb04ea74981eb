from tests.conformance.kit import Resolvers

PRODUCTS = {
    "p1": {"upc": "p1", "name": "Kettle"},
    "p2": {"upc": "p2", "name": "Toaster"},
    "p3": {"upc": "p3", "name": "Blender"},
    "p4": {"upc": "p4", "name": "Juicer"},
}
SHELF = ["p1", None, "p2", "p3", None, "p4"]
RATINGS = {"p1": 4.5, "p3": 3.0}  # p2 and p4 are unknown to reviews: _entities returns null
STOCK = {"p1": (12, "A1"), "p2": (0, None), "p3": (5, "C4")}  # p4 is unknown to stock
PROMOTIONS = [
    {"code": "SPRING", "product": PRODUCTS["p3"]},
    {"code": "GONE", "product": None},
    {"code": "WINTER", "product": PRODUCTS["p4"]},
]


def rating(rep: dict) -> dict | None:
    if rep["upc"] not in RATINGS:
        return None
    return {"upc": rep["upc"], "rating": RATINGS[rep["upc"]]}


def stock(rep: dict) -> dict | None:
    if rep["upc"] not in STOCK:
        return None
    quantity, location = STOCK[rep["upc"]]
    return {"upc": rep["upc"], "quantity": quantity, "location": location}


SUBGRAPHS = {
    "catalog": Resolvers(
        query={
            "shelf": lambda info: [PRODUCTS[u] if u else None for u in SHELF],
            "product": lambda info, upc: PRODUCTS.get(upc),
            "promotions": lambda info: PROMOTIONS,
        },
        entities={"Product": lambda rep: PRODUCTS.get(rep["upc"])},
    ),
    "reviews": Resolvers(entities={"Product": rating}),
    "stock": Resolvers(entities={"Product": stock}),
}
