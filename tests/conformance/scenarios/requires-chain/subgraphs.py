from tests.conformance.kit import Resolvers

PRODUCTS = [
    {"sku": "k1", "name": "Kettle", "price": 4000, "weight": 1200},
    {"sku": "k2", "name": "Teapot", "price": 2500, "weight": 700},
]
BY_SKU = {p["sku"]: p for p in PRODUCTS}


def shipping(rep: dict) -> dict:
    return {"sku": rep["sku"], "shippingCost": 200 + rep["weight"] // 2}


def taxes(rep: dict) -> dict:
    return {"sku": rep["sku"], "totalWithTax": (rep["price"] + rep["shippingCost"]) * 120 // 100}


def quote(rep: dict) -> dict:
    return {"sku": rep["sku"], "quote": f"{rep['name']}: {rep['totalWithTax'] / 100:.2f} EUR"}


SUBGRAPHS = {
    "products": Resolvers(
        query={"cart": lambda info: PRODUCTS},
        entities={"Product": lambda rep: BY_SKU.get(rep["sku"])},
    ),
    "shipping": Resolvers(entities={"Product": shipping}),
    "taxes": Resolvers(entities={"Product": taxes}),
    "quotes": Resolvers(entities={"Product": quote}),
}
