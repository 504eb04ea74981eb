from tests.conformance.kit import Resolvers

PRODUCTS = [
    {"upc": "p1", "name": "Table", "price": 899},
    {"upc": "p2", "name": "Couch", "price": 1299},
    {"upc": "p3", "name": "Chair", "price": 54},
    {"upc": "p4", "name": "Lamp", "price": 35},
]
BY_UPC = {p["upc"]: p for p in PRODUCTS}
REVIEWS = {
    "p1": [{"id": "r1", "body": "Sturdy", "stars": 5}, {"id": "r2", "body": "Wobbly", "stars": 2}],
    "p2": [{"id": "r3", "body": "Comfy", "stars": 4}],
    "p3": [],
}


def product_reviews(upc: str) -> dict:
    reviews = REVIEWS.get(upc, [])
    return {"upc": upc, "reviews": reviews, "reviewCount": len(reviews)}


SUBGRAPHS = {
    "products": Resolvers(
        query={
            "product": lambda info, upc: BY_UPC.get(upc),
            "topProducts": lambda info, first: PRODUCTS[:first],
        },
        entities={"Product": lambda rep: BY_UPC.get(rep["upc"])},
    ),
    "reviews": Resolvers(entities={"Product": lambda rep: product_reviews(rep["upc"])}),
}
