from tests.conformance.kit import Resolvers

PRODUCTS = {"p1": "Kettle", "p2": "Toaster", "p3": "Blender"}
CUSTOMERS = {"c1": ("Noor", "gold"), "c2": ("Ivo", "basic")}
ORDERS = [
    {"id": "o1", "items": ["p1", "p2"], "buyer": "c1"},
    {"id": "o2", "items": ["p3"], "buyer": "c2"},
    {"id": "o3", "items": [], "buyer": None},
]


def order(row: dict) -> dict:
    return {
        "id": row["id"],
        "items": [{"upc": upc} for upc in row["items"]],
        "buyer": {"id": row["buyer"]} if row["buyer"] else None,
    }


def customer(rep: dict) -> dict | None:
    if rep["id"] not in CUSTOMERS:
        return None
    name, tier = CUSTOMERS[rep["id"]]
    return {"id": rep["id"], "name": name, "tier": tier}


SUBGRAPHS = {
    "products": Resolvers(
        query={"products": lambda info: [{"upc": k, "name": v} for k, v in PRODUCTS.items()]},
        entities={"Product": lambda rep: {"upc": rep["upc"], "name": PRODUCTS[rep["upc"]]}},
    ),
    "orders": Resolvers(query={"orders": lambda info: [order(o) for o in ORDERS]}),
    "customers": Resolvers(entities={"Customer": customer}),
}
