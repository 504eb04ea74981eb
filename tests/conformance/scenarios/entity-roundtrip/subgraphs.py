from tests.conformance.kit import Resolvers

USERS = {"u1": "ada", "u2": "grace", "u3": "linus"}
PRODUCTS = [
    {"upc": "p1", "name": "Table", "price": 899},
    {"upc": "p2", "name": "Couch", "price": 1299},
    {"upc": "p3", "name": "Chair", "price": 54},
]
PRODUCT_BY_UPC = {p["upc"]: p for p in PRODUCTS}
REVIEWS = [
    {"id": "r1", "body": "Love it", "author": "u1", "product": "p1"},
    {"id": "r2", "body": "Too pricey", "author": "u2", "product": "p2"},
    {"id": "r3", "body": "Could be better", "author": "u1", "product": "p3"},
    {"id": "r4", "body": "Solid", "author": "u2", "product": "p1"},
    {"id": "r5", "body": "Arrived late", "author": "u3", "product": "p2"},
]
REVIEW_BY_ID = {r["id"]: r for r in REVIEWS}
STOCK = {"p1": (True, "LYS"), "p2": (False, "NTE"), "p3": (True, None)}
WAREHOUSES = {"LYS": ("Lyon", "u3"), "NTE": ("Nantes", None)}


def review(row: dict) -> dict:
    return {
        "id": row["id"],
        "body": row["body"],
        "author": {"id": row["author"]},
        "product": {"upc": row["product"]},
    }


def reviews_of(field: str, key: str) -> list[dict]:
    return [review(r) for r in REVIEWS if r[field] == key]


def stock(rep: dict) -> dict:
    in_stock, warehouse = STOCK[rep["upc"]]
    return {"upc": rep["upc"], "inStock": in_stock, "warehouse": warehouse_of(warehouse)}


def warehouse_of(code: str | None) -> dict | None:
    if code is None:
        return None
    city, manager = WAREHOUSES[code]
    return {"code": code, "city": city, "manager": {"id": manager} if manager else None}


SUBGRAPHS = {
    "accounts": Resolvers(
        query={
            "me": lambda info: {"id": "u1", "username": USERS["u1"]},
            "users": lambda info: [{"id": k, "username": v} for k, v in USERS.items()],
        },
        entities={"User": lambda rep: {"id": rep["id"], "username": USERS[rep["id"]]}},
    ),
    "reviews": Resolvers(
        entities={
            "Review": lambda rep: review(REVIEW_BY_ID[rep["id"]]),
            "User": lambda rep: {"id": rep["id"], "reviews": reviews_of("author", rep["id"])},
            "Product": lambda rep: {
                "upc": rep["upc"],
                "reviews": reviews_of("product", rep["upc"]),
            },
        },
        # nested users/products reached inside this subgraph only carry their key
        fields={
            "User": {"reviews": lambda obj, info: reviews_of("author", obj["id"])},
            "Product": {"reviews": lambda obj, info: reviews_of("product", obj["upc"])},
        },
    ),
    "products": Resolvers(
        query={"topProducts": lambda info, first: PRODUCTS[:first]},
        entities={"Product": lambda rep: PRODUCT_BY_UPC[rep["upc"]]},
    ),
    "inventory": Resolvers(
        entities={
            "Product": stock,
            "Warehouse": lambda rep: warehouse_of(rep["code"]),
        }
    ),
}
