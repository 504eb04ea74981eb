from tests.conformance.kit import Resolvers

USERS = {
    "u1": {"id": "u1", "username": "ada", "email": "ada@example.com"},
    "u2": {"id": "u2", "username": "grace", "email": "grace@example.com"},
}
MAKERS = {
    "m1": {"id": "m1", "name": "Nordwood", "country": "SE"},
    "m2": {"id": "m2", "name": "Lumo", "country": "DE"},
}
PRODUCTS = {
    "p1": {"upc": "p1", "name": "Bookcase", "price": 12900, "maker": {"id": "m1"}},
    "p2": {"upc": "p2", "name": "Desk lamp", "price": 3900, "maker": {"id": "m2"}},
}
# the denormalised copies reviews keeps carry a marker so a provided value can be told apart
# from a value fetched from the owning subgraph
REVIEWS = [
    {"id": "r1", "body": "Sturdy", "author": "u1", "editor": "u2", "product": "p1"},
    {"id": "r2", "body": "Bright", "author": "u2", "editor": None, "product": "p2"},
]


def review(row: dict) -> dict:
    product = PRODUCTS[row["product"]]
    maker = MAKERS[product["maker"]["id"]]
    return {
        "id": row["id"],
        "body": row["body"],
        "author": {"id": row["author"], "username": USERS[row["author"]]["username"] + "*"},
        "editor": {"id": row["editor"]} if row["editor"] else None,
        "product": {
            "upc": product["upc"],
            "name": product["name"] + "*",
            "maker": {"id": maker["id"], "name": maker["name"] + "*"},
        },
    }


SUBGRAPHS = {
    "accounts": Resolvers(entities={"User": lambda rep: USERS.get(rep["id"])}),
    "products": Resolvers(
        fields={"Product": {"maker": lambda obj, info: MAKERS[obj["maker"]["id"]]}},
        entities={
            "Product": lambda rep: PRODUCTS.get(rep["upc"]),
            "Maker": lambda rep: MAKERS.get(rep["id"]),
        }
    ),
    "reviews": Resolvers(query={"latestReviews": lambda info: [review(r) for r in REVIEWS]}),
}
