"""Two subgraphs that both resolve products, their names and their dimensions.

Only the warehouse knows a parcel's depth and weight, so a query reaching
`dimensions` through the catalog must still get those from the warehouse.
The shared fields hold the same values in both subgraphs, as @shareable requires.
"""

from tests.conformance.kit import Resolvers

PRODUCTS = {
    "lamp": {"name": "Desk lamp", "priceCents": 2999, "stock": 14,
             "dimensions": {"widthMm": 150, "heightMm": 420, "depthMm": 150, "weightGrams": 1200}},
    "mug": {"name": "Stoneware mug", "priceCents": 1250, "stock": 0,
            "dimensions": {"widthMm": 90, "heightMm": 100, "depthMm": 90, "weightGrams": None}},
    "rug": {"name": "Wool rug", "priceCents": 18900, "stock": 3, "dimensions": None},
}
ORDER = ["lamp", "mug", "rug"]


def _catalog_product(sku: str) -> dict | None:
    row = PRODUCTS.get(sku)
    if row is None:
        return None
    dims = row["dimensions"]
    return {
        "sku": sku,
        "name": row["name"],
        "priceCents": row["priceCents"],
        "dimensions": dims and {"widthMm": dims["widthMm"], "heightMm": dims["heightMm"]},
    }


def _warehouse_product(sku: str) -> dict | None:
    row = PRODUCTS.get(sku)
    if row is None:
        return None
    return {"sku": sku, "name": row["name"], "stock": row["stock"], "dimensions": row["dimensions"]}


SUBGRAPHS = {
    "catalog": Resolvers(
        query={
            "products": lambda info: [_catalog_product(sku) for sku in ORDER],
            "product": lambda info, sku: _catalog_product(sku),
            "featured": lambda info: _catalog_product("mug"),
        },
        entities={"Product": lambda rep: _catalog_product(rep["sku"])},
    ),
    "warehouse": Resolvers(
        query={
            "products": lambda info: [_warehouse_product(sku) for sku in ORDER],
            "product": lambda info, sku: _warehouse_product(sku),
            "clearance": lambda info: [
                _warehouse_product(sku) for sku in ORDER if PRODUCTS[sku]["stock"] < 5
            ],
        },
        entities={"Product": lambda rep: _warehouse_product(rep["sku"])},
    ),
}
